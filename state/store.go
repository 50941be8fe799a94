package state

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/internal/safepath"
)

// Store is the one writer of a working directory's outputs and its
// lockfile: it places each finished image at its path and records it, and
// removes and moves recorded images, so that at every instant every entry
// of the lockfile names a file that exists with the entry's hash, no two
// entries share a path (compared case-folded), no partial file is ever at
// an output path, and no kill leaves an orphan that a later run does not
// remove. It is safe for concurrent use by the executor's workers.
//
// Error contract. An error that is a *RecordError (errors.As) means the
// lockfile could not be written, or the wait for it was abandoned because
// ctx was done: the lockfile can no longer be trusted to keep up, and the
// run must stop (later calls fail the same way). Any other error concerns
// that one change only (a file that could not be placed, copied or
// verified): the lockfile still keeps the guarantee, though it may no
// longer record the entry that held the change's path. Warnings
// (an old file kept because the user changed it, a content cache that
// could not take a file) never fail a change: they go to the Warn function
// of the call.
//
// Every blocking wait selects on its ctx: a hung disk keeps no caller
// after ctx is done. Begin and End, which hash and delete files one by
// one, check ctx between files and stop once it is done.
//
// A second implementation (for example one that also uploads each output
// to object storage) wraps a Store and calls it first: the local commit is
// the one that keeps the guarantee.
type Store interface {
	// RemoveStaleTemps removes the temporary files that a run killed in
	// the middle of writing left beside paths (relative, slash-separated)
	// and beside the lockfile. Errors are ignored: a leftover is untidy
	// but harmless.
	RemoveStaleTemps(paths []string)
	// CreateTemp makes a temporary file beside the output at path
	// (relative, slash-separated), creating its directory: the file to
	// write an image into and then hand to Commit. The directories it
	// creates are the Store's, which End removes once they are empty.
	CreateTemp(path string) (*os.File, error)
	// AbortTemp gives up a file made by CreateTemp and not handed to
	// Commit: it closes it and removes it from the directory it was
	// made in, wherever that is now, never through its path (except
	// where no directory can be opened without following links, not
	// Linux, and the file was made beside its target's path).
	AbortTemp(f *os.File)
	// Begin readies a run that writes the paths writes and stops
	// recording, then removes, the files rs, except those at a path the
	// run writes: it finishes the removals an interrupted run noted, then
	// notes rs durably. An error changes nothing of this run's.
	Begin(ctx context.Context, writes []string, rs []Removal) error
	// Commit places c.Temp at c.Entry.Path and records c.Entry under
	// c.Addr (see Commit). c.Temp is never left behind: on an error
	// before it is placed, it is removed.
	Commit(ctx context.Context, c Commit) error
	// Delete removes d.Addr's entry, then its file (see Deletion); kept
	// reports a file left in place because it no longer holds the
	// recorded image (the user changed it), which the caller reports.
	Delete(ctx context.Context, d Deletion) (kept bool, err error)
	// Move carries out moves in an order where none overwrites a file that
	// another still has to read, staging one of each cycle under .pixform/,
	// and calls done once per move, in the order they finish.
	Move(ctx context.Context, moves []Move, done func(i int, err error, skipped bool))
	// End finishes the removals this run noted, against the lockfile as
	// written: a file whose entry is gone and whose removal a failure
	// skipped is removed now. Then the directories that the Store created
	// and that are now empty are removed; never the working directory, a
	// directory the Store did not create, or one that holds any file.
	End(ctx context.Context) error
	// Close waits for pending lockfile writes (once ctx is done, only for
	// a short grace) and releases the Store. It returns the lockfile's
	// sticky write error, if any, as a *RecordError.
	Close(ctx context.Context) error
}

// Commit is one finished image to put in place and record.
type Commit struct {
	// Addr is the address to record Entry under.
	Addr addrs.Addr
	// Entry is the image's entry; Entry.Path is where Temp goes.
	Entry Entry
	// Temp holds the image: a file made by CreateTemp beside Entry.Path.
	Temp *os.File
	// Prior is the entry this image replaces, as the plan saw it, or nil.
	// When it is recorded under another address it is deleted in the
	// same lockfile write; when its path differs, its file is removed
	// after the record (unless the user changed it, or the run writes or
	// records that path).
	Prior *Prior
	// Cache puts the placed file in the content cache before the lockfile
	// records it, so that a crash in between costs no request to redo.
	Cache bool
	// Cached says that the image's bytes are in the content cache
	// already (a restore from it).
	Cached bool
	// Warn receives warnings; nil drops them.
	Warn func(msg string)
}

// Prior is a recorded entry and its address.
type Prior struct {
	Addr  addrs.Addr
	Entry Entry
}

// Deletion is an entry to remove with its file.
type Deletion struct {
	// Addr is the entry's address.
	Addr addrs.Addr
	// Entry is the entry as the plan saw it, or nil: its file is removed
	// once the entry is gone, unless the user changed it, or the run
	// writes or records that path.
	Entry *Entry
	// Warn receives warnings; nil drops them.
	Warn func(msg string)
}

// Move is a recorded image to move without a request: From's entry (the
// file at From.Entry.Path) becomes To's entry at Path.
type Move struct {
	From Prior
	To   addrs.Addr
	Path string
	// Warn receives warnings; nil drops them.
	Warn func(msg string)
}

// RecordError is a failure to record a change in the lockfile: fatal to
// the run. Its message states what failed (the Err of a failed write names
// the lockfile); what to do is the caller's to say.
type RecordError struct {
	// What is recorded ("the entry", "the removal", "the move") of Addr.
	What string
	Addr addrs.Addr
	Err  error
}

func (e *RecordError) Error() string {
	if e.Addr.IsZero() {
		return fmt.Sprintf("record %s: %v", e.What, e.Err)
	}
	return fmt.Sprintf("record %s of %s: %v", e.What, e.Addr, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// Journal is the lockfile writer under a LocalStore: Recorder.
type Journal interface {
	// Record applies deletes, then sets, as one change, and returns once
	// it is on disk (or ctx is done).
	Record(ctx context.Context, deletes []addrs.Addr, sets map[addrs.Addr]Entry) error
	// Snapshot returns the lockfile as last written to disk.
	Snapshot() *Lock
	Close() error
}

// Putter is the content cache under a LocalStore: Cache.
type Putter interface {
	// Put records the finished file src, whose bytes hash to sum.
	Put(digest, provider, src, sum string) error
}

// OpenStore returns the Store of the working directory dir, whose lockfile
// holds lock: a Recorder writes the lockfile, and cache, if not nil, takes
// each committed image whose Commit asks for it.
func OpenStore(dir string, lock *Lock, cache Putter) *LocalStore {
	return NewStore(dir, lock, NewRecorder(filepath.Join(dir, LockFileName), lock), cache)
}

// NewStore is OpenStore with the lockfile written through j (tests).
func NewStore(dir string, lock *Lock, j Journal, cache Putter) *LocalStore {
	s := &LocalStore{dir: dir, j: j, cache: cache, idx: newPathIndex(lock), targets: map[string]string{}, batch: flushCovers(dir)}
	if isNilPutter(cache) {
		s.cache = nil
	}
	return s
}

func isNilPutter(p Putter) bool {
	if p == nil {
		return true
	}
	c, ok := p.(*Cache)
	return ok && c == nil
}

// ContentCache is the content cache the Store was opened with, or nil: the
// one instance an apply keeps its renders and takes in, for a reader that
// must see what the apply keeps (a Cache lists its directory only once).
func (s *LocalStore) ContentCache() Putter { return s.cache }

// LocalStore is the Store of a local working directory.
type LocalStore struct {
	// Warn, when set, receives the warnings of Begin and End, which no
	// one change's call carries: about the file at path (relative,
	// slash-separated), a noted removal left where it is.
	Warn func(path, msg string)

	// beforeMkdir, when set (by tests), runs between a create's failure
	// for a missing directory and the making of that directory.
	beforeMkdir func()

	dir   string
	j     Journal
	cache Putter
	idx   *pathIndex
	// targets maps safepath.Key of each path the run writes to that path
	// (Begin): such a file is never removed as an old one.
	targets map[string]string
	// noted says that Begin noted removals, which End finishes.
	noted bool
	// one says that the run writes one image beside the rest (a pick):
	// its End keeps the paths an earlier, interrupted apply noted
	// (KeepEarlierNotes).
	one bool
	// placing is the placing note Begin wrote, which End of a run that
	// did not finish trims to the paths that hold a file.
	placing placingFile
	// ours are the paths (safepath.Key) where a file that no entry
	// records may be pixform's own: the recorded file of an image that
	// the run moves or replaces, kept there because the run writes the
	// path (Begin). A commit replaces such a file rather than refuse it
	// (placeGuard), unless it changed since it was recorded (taken).
	ours map[string]bool
	// left judges a file that no entry records at a path an earlier
	// apply was placing an image at (its placing note, Begin): a commit
	// replaces it only while it is an image pixform made (placeGuard).
	left *Leftovers
	// taken holds the recorded files that an image of the run leaves and
	// another takes over (Begin), nil for none: checked before they are
	// overwritten.
	taken *takenPaths
	// dirs guards the note of the directories the Store created.
	dirs dirNotes
	// plog appends to the log of the images placed and not cached.
	plog placedLog

	mu    sync.Mutex // guards fatal and unrecorded
	fatal error      // the first RecordError
	// unrecorded maps the path of each image this run placed and then
	// failed to record to the image's SHA-256: End notes them in the
	// placing note (Placed). Nil in a run where no record failed.
	unrecorded map[string]string

	// putBacks says that PutBack placed files that End must make
	// durable; noUnnamed that the file system makes no unnamed files, or
	// that there is no /proc/self/fd to name them through (procOnce
	// looks, once).
	putBacks, noUnnamed atomic.Bool
	procOnce            sync.Once
	// batch says that one flush of the working directory's file system
	// (the Recorder's, before each lockfile write) makes the outputs
	// placed there durable (flushCovers); else each is synced as placed.
	batch bool
	// held are the output directories held open for unnamed files.
	held heldDirs
	// named are the directories of named temporary files not yet placed.
	named namedDirs
	// umask says, once asked, whether the umask keeps mode 0644.
	umask struct {
		once  sync.Once
		keeps bool
	}
}

var _ Store = (*LocalStore)(nil)

// closeGrace is how long Close still waits for the Journal once ctx is
// done: long enough for a healthy disk to finish the writes in progress
// (so that what the run finished is recorded), short enough that a hung
// one does not hold the process.
const closeGrace = time.Second

// Close closes the Journal, waiting for its pending writes, or for ctx and
// then at most closeGrace.
func (s *LocalStore) Close(ctx context.Context) error { return s.CloseThen(ctx, nil) }

// CloseThen is Close with then (when not nil) called once the Journal is
// closed and before the content cache compacts: a Store that wraps this
// one waits there for its readers of the cache (storesync's uploads of
// takes), which a compaction would make look for their renders again.
func (s *LocalStore) CloseThen(ctx context.Context, then func()) error {
	if c, ok := s.cache.(interface{ Close() error }); ok {
		defer c.Close() // the pack it appends to (best effort: it is rebuildable)
	}
	if c, ok := s.cache.(*Cache); ok {
		// When dead records call for it (a Store's user holds the
		// lock); not once the run is interrupted.
		defer func() {
			if ctx.Err() == nil {
				c.compact()
			}
		}()
	}
	defer s.held.close()
	defer s.named.close()
	defer s.plog.close()
	defer s.saveDirNotes()
	err := s.closeJournal(ctx)
	if then != nil {
		then()
	}
	if err != nil {
		// A RecordError: what finished is on disk but maybe not recorded.
		return &RecordError{What: "the last changes", Err: err}
	}
	return nil
}

// closeJournal closes the Journal, waiting at most closeGrace once ctx is
// done.
func (s *LocalStore) closeJournal(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- s.j.Close() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	t := time.NewTimer(closeGrace)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return fmt.Errorf("close lockfile %s: abandoned waiting for the disk: %w", LockFileName, context.Cause(ctx))
	}
}

// record applies deletes and sets through the Journal, as one write.
func (s *LocalStore) record(ctx context.Context, what string, addr addrs.Addr, deletes []addrs.Addr, sets map[addrs.Addr]Entry) error {
	if err := s.j.Record(ctx, deletes, sets); err != nil {
		re := &RecordError{What: what, Addr: addr, Err: err}
		s.mu.Lock()
		if s.fatal == nil {
			s.fatal = re
		}
		s.mu.Unlock()
		return re
	}
	return nil
}

func (s *LocalStore) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fatal
}

// Begin implements Store.
func (s *LocalStore) Begin(ctx context.Context, writes []string, rs []Removal) error {
	clear(s.targets)
	// Read once: notePlacing keeps its paths.
	earlier, _ := readPlacing(s.dir)
	s.left = earlier.leftovers(s.dir, s.contentCache)
	s.ours = nil
	s.idx.mu.RLock()
	for _, p := range writes {
		k := safepath.Key(p)
		s.targets[k] = p
		if _, recorded := s.idx.owner[k]; recorded {
			if s.ours == nil {
				s.ours = map[string]bool{}
			}
			s.ours[k] = true
		}
	}
	s.idx.mu.RUnlock()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("stopped before the run began: %w; nothing was changed", err)
	}
	if p, ok := s.j.(prober); ok && (len(writes) > 0 || len(rs) > 0) {
		// A lockfile that cannot be written would cost every request
		// the run pays for: the renders would be on disk, unrecorded.
		if err := p.Probe(); err != nil {
			return fmt.Errorf("%w; nothing was changed", err)
		}
	}
	_, kept, err := FinishRemovals(ctx, s.dir, s.j.Snapshot())
	if err != nil {
		return err
	}
	// A kept file is the user's from now on, though the interrupted
	// apply may have been placing an image there: a commit refuses it
	// (as the plan, LeftBehind, said). Nor does this run's note name it,
	// though the run writes there: after an interruption, the next run
	// would take the kept file for this one's leftover and overwrite it.
	s.left.drop(kept)
	for _, k := range kept {
		delete(s.ours, safepath.Key(k.Path))
	}
	placing := writes
	for _, k := range kept {
		key := safepath.Key(k.Path)
		atKey := func(p string) bool { return safepath.Key(p) == key }
		earlier.Paths = slices.DeleteFunc(earlier.Paths, atKey)
		if slices.ContainsFunc(placing, atKey) {
			placing = slices.DeleteFunc(slices.Clone(placing), atKey)
		}
		s.warnKept(k, "an interrupted apply")
	}
	s.taken = takenOf(s.dir, s.targets, rs)
	// A removal at a path the run writes stays noted too: the file there
	// is replaced (a new file: the note, of this one's inode, no longer
	// matches), or, when the image taking the path failed or was skipped,
	// it is left unrecorded, and removed at End (or by the next run after
	// a kill) while it holds the recorded bytes, so that the next plan
	// does not refuse that image for a file the lockfile does not record.
	if err := IntendRemovals(s.dir, rs); err != nil {
		return fmt.Errorf("%w; nothing was changed", err)
	}
	if len(earlier.Paths) == 0 {
		// No note of this checkout's ties a log found now: it is not
		// this checkout's (copied in, or its note deleted by hand), and
		// its lines must not count with this run's note.
		if err := removePlacedLog(s.dir); err != nil {
			return fmt.Errorf("%w; nothing was changed", err)
		}
	}
	if err := notePlacing(s.dir, placing, earlier); err != nil {
		return fmt.Errorf("%w; nothing was changed", err)
	}
	s.placing = placingFile{Paths: append(slices.Clone(placing), earlier.Paths...), Placed: earlier.Placed}
	s.noted = true
	return nil
}

// KeepEarlierNotes makes s the Store of a run that writes one image and
// leaves the rest alone (pixform pick): its End drops from the placing
// note only the paths it wrote, so that an interrupted apply's leftovers
// elsewhere stay known for that apply's, as they would without the pick.
// Call it before Begin.
func (s *LocalStore) KeepEarlierNotes() { s.one = true }

// contentCache is the content cache that judges a leftover's bytes
// (Leftovers.Holds): the Store's, or, when it has none (a run that
// restores nothing from it), the working directory's all the same,
// since the bytes of a render cached by an earlier run are pixform's.
func (s *LocalStore) contentCache() *Cache {
	if c, ok := s.cache.(*Cache); ok && c != nil {
		return c
	}
	return OpenCache(s.dir)
}

// placedUnrecorded notes that the image with hash sum, placed at path,
// may not be recorded (its record failed): End notes it in the placing
// note as placed there, so that the next apply tells it from a file the
// user puts there.
func (s *LocalStore) placedUnrecorded(path, sum string) {
	if !validSHA256(sum) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unrecorded == nil {
		s.unrecorded = map[string]string{}
	}
	s.unrecorded[path] = sum
}

// trimPlacing rewrites the placing note of a run that did not finish
// without the paths that hold no file: no image of the run is there (its
// change never started, or failed before placing it), so a file that
// comes there later is the user's, which the next run must refuse, not
// take for this run's leftover. Every worker has ended by End: no image
// is placed meanwhile. A path that cannot be looked at stays noted.
//
// It also notes the hashes of the images the run placed and could not
// record (placedUnrecorded), with those an earlier note kept where no
// image of this run's was, and those the log of the images placed and
// not cached records (settlePlacing): a file of those bytes at such a
// path is the run's leftover, whether or not the content cache holds
// its render.
func (s *LocalStore) trimPlacing() error {
	return s.settlePlacing(func(p string) bool {
		_, err := os.Lstat(filepath.Join(s.dir, filepath.FromSlash(p)))
		return !errors.Is(err, fs.ErrNotExist)
	})
}

// settlePlacing rewrites the placing note with the noted paths that keep
// says to keep, each with the hash of the image placed there that no
// entry records, if known: the one the note records, those of the log
// of the images placed and not cached, and that of an image this run
// could not record (placedUnrecorded), later ones first; where the log
// records several, the one the file there holds. The log, folded into
// the note, is dropped then. No path to keep drops the note and the log.
func (s *LocalStore) settlePlacing(keep func(p string) bool) error {
	kept := make([]string, 0, len(s.placing.Paths))
	keys := make(map[string]bool, len(s.placing.Paths))
	for _, p := range s.placing.Paths {
		if k := safepath.Key(p); !keys[k] && keep(p) { // once each: this run's and an earlier note's may meet
			kept = append(kept, p)
			keys[k] = true
		}
	}
	s.plog.close()
	if len(kept) == 0 {
		return clearPlacing(s.dir)
	}
	s.mu.Lock()
	unrecorded := s.unrecorded
	s.mu.Unlock()
	logged := readPlacedLog(s.dir, func(k string) bool { return keys[k] })
	if len(kept) == len(s.placing.Paths) && len(unrecorded) == 0 && len(logged) == 0 {
		return nil
	}
	var placed map[string]string
	for _, p := range kept {
		var sums []string
		noted := s.placing.Placed[p]
		if noted != "" {
			sums = append(sums, noted)
		}
		for _, sum := range logged[safepath.Key(p)] {
			// The log's hashes at a path are distinct already: only the
			// noted one can repeat among them.
			if sum != noted {
				sums = append(sums, sum)
			}
		}
		if sum := unrecorded[p]; sum != "" && !slices.Contains(sums, sum) {
			sums = append(sums, sum)
		}
		if len(sums) == 0 {
			continue
		}
		sum := sums[len(sums)-1]
		if len(sums) > 1 {
			if got, ok := regularSHA256(s.abs(p)); ok && slices.Contains(sums, got) {
				sum = got
			}
		}
		if placed == nil {
			placed = map[string]string{}
		}
		placed[p] = sum
	}
	if err := notePlacing(s.dir, kept, placingFile{Placed: placed}); err != nil {
		return err
	}
	return removePlacedLog(s.dir)
}

// trimPlacingWithin is trimPlacing, waited for at most grace: the run is
// ending, often for a disk that does not answer, and the trim only spares
// the user a refusal. A trim that fails or takes longer leaves the note
// as Begin wrote it (the rename that replaces it is atomic), which s.Warn
// says: harmless, since a file at a noted path is replaced only while its
// bytes are an image pixform made (Leftovers.Holds).
func (s *LocalStore) trimPlacingWithin(grace time.Duration) {
	done := make(chan error, 1)
	go func() { done <- s.trimPlacing() }()
	t := time.NewTimer(grace)
	defer t.Stop()
	var err error
	select {
	case err = <-done:
	case <-t.C:
		err = fmt.Errorf("abandoned waiting for the disk after %v", grace)
	}
	if err != nil && s.Warn != nil {
		p := filepath.Join(WorkDirName, placingName)
		s.Warn(p, fmt.Sprintf("could not rewrite %s without the paths this apply never wrote (%v): a later apply takes a file that no lockfile entry records at one of those paths for this apply's leftover, and replaces it, only while its bytes are an image pixform made (one an apply placed there, or a render the content cache holds), and refuses any other as yours; nothing of yours is lost, and nothing needs doing", p, err))
	}
}

// warnKept warns, through s.Warn, that the file of the noted removal k,
// which who noted, was left where it is.
func (s *LocalStore) warnKept(k KeptRemoval, who string) {
	if s.Warn != nil {
		s.Warn(k.Path, fmt.Sprintf("did not delete %s, which %s noted for deletion: %s; it was left as it is (delete it yourself if you no longer need it)", k.Path, who, k.Why))
	}
}

// End implements Store.
func (s *LocalStore) End(ctx context.Context) error {
	// Even in a cancelled run: the entries of the images put back claim
	// them already.
	if err := s.syncPutBacks(); err != nil {
		return err
	}
	if !s.noted {
		return nil
	}
	if ctx.Err() != nil {
		// A cancelled run may have lockfile writes still pending: its
		// notes stay for the next run to finish, but only for the paths
		// that hold a file now (trimPlacing).
		s.trimPlacingWithin(closeGrace)
		return nil
	}
	_, kept, err := FinishRemovals(ctx, s.dir, s.j.Snapshot())
	if err != nil {
		return err
	}
	for _, k := range kept {
		// An edit of a file the run does not write was the warning of the
		// change that removed its entry (removeOld).
		if _, written := s.targets[safepath.Key(k.Path)]; written || !k.Edited {
			s.warnKept(k, "this apply")
		}
	}
	switch {
	case s.failed() == nil && s.one:
		// Every image placed is recorded; an interrupted apply's
		// leftovers at the other noted paths stay its own.
		if err := s.settlePlacing(func(p string) bool {
			_, written := s.targets[safepath.Key(p)]
			return !written
		}); err != nil {
			return err
		}
	case s.failed() == nil:
		// Every image placed is recorded: none is a leftover.
		s.plog.close()
		if err := clearPlacing(s.dir); err != nil {
			return err
		}
	default:
		s.trimPlacingWithin(closeGrace)
	}
	s.removeEmptyDirs(ctx)
	return nil
}
