package state

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/pixform/pixform/addrs"
)

// ErrRecorderClosed is returned by a Recorder's Set, Delete and Update after
// Close.
var ErrRecorderClosed = errors.New("lockfile recorder is closed")

// Recorder records finished images in the lockfile as they land. One
// goroutine, owned by the Recorder and stopped by Close, does every write
// (group commit): changes that arrive while a write is in progress are all
// committed together by the next one, so many images finishing at once cost
// a few full rewrites, not one each. Every write goes through
// WriteFileAtomic, so the file on disk is always a whole, valid lockfile.
//
// A Recorder is safe for concurrent use.
type Recorder struct {
	path string

	mu sync.Mutex
	// cond wakes the callers waiting for their change to reach disk: the
	// loop broadcasts it after each write (or its failure). work wakes
	// the loop alone when a change arrives or Close is called, so that a
	// change does not wake every caller still waiting for an earlier one.
	cond *sync.Cond
	work *sync.Cond
	// recs are the lockfile with every accepted change, committed or not:
	// its addresses in addrs.Addr.Compare order, each with its entry's
	// encoding (appendEntry) and nothing else, so a write re-encodes only
	// what changed and walks a slice, not a map, to lay out the file, and
	// a run keeps each entry once, encoded. That no two entries share a
	// path (case-folded) is the Store's to keep: its path index is the one
	// owner of that invariant. Each
	// fragment is its own allocation, never changed once made: a write
	// streams them to the file, so the Recorder holds no buffer of the
	// whole lockfile.
	recs []recFrag
	// scratch is where frag encodes an entry, packed where it packs it
	// and check where it unpacks it again, before copying it out.
	scratch, packed, check []byte
	// chunk is the loop's buffer for streaming a write to the file.
	chunk []byte
	// dirs are the directories of paths set since the last write; the
	// loop syncs them before writing, so a PlaceTemp'd output's name is
	// durable before the lockfile names it.
	dirs map[string]bool
	// batch says that one syncfs of the lockfile's file system makes the
	// files placed there durable (flushCovers); else syncDir syncs each
	// directory, whose files PlaceTemp synced.
	batch   bool
	syncDir func(string) error
	// lastStart and lastCost time the latest write, for spacing.
	lastStart time.Time
	lastCost  time.Duration
	// busy says that the latest write carried more than one change, or
	// that changes arrived while it was in progress: callers are
	// recording concurrently, so waiting lets more gather.
	busy bool
	// disk is the lockfile as last written successfully (or as given to
	// NewRecorder): its entries' fragments, in order, shared with recs.
	// Snapshot encodes and parses it while changes are pending.
	disk    [][]byte
	spare   [][]byte // the slice of the write before last, reused
	gen     uint64   // number of the latest accepted change
	written uint64   // gen of the latest change on disk
	err     error    // sticky write error
	closing bool
	writes  int // number of file writes, for tests and benchmarks
	// waiting counts the callers waiting in Record, and idle their
	// wake-ups that found their change not yet on disk (and no error nor
	// ctx done): for tests.
	waiting, idle int
	// write, when not nil, replaces the streaming of each write to the
	// file (writeFrags): tests set it to see, hold or fail a write, and
	// it gets the whole lockfile, encoded.
	write func(path string, data []byte) error
	// now and sleep are the clock of the spacing; tests replace them
	// (under mu, before the first change).
	now    func() time.Time
	sleep  func(time.Duration)
	done   chan struct{}
	closed sync.Once
}

// NewRecorder starts a Recorder that writes the lockfile at path, starting
// from a copy of lock. It writes nothing until the first change. A Recorder
// checks each entry on its own, not paths across entries: its caller (the
// Store) keeps them unique.
func NewRecorder(path string, lock *Lock) *Recorder {
	return newRecorder(path, lock, nil)
}

func newRecorder(path string, lock *Lock, write func(string, []byte) error) *Recorder {
	r := &Recorder{
		path:    path,
		batch:   flushCovers(filepath.Dir(path)),
		syncDir: SyncDir,
		dirs:    map[string]bool{},
		done:    make(chan struct{}),
		write:   write,
		now:     time.Now,
		sleep:   time.Sleep,
	}
	r.recs = make([]recFrag, 0, len(lock.Images))
	for _, a := range slices.SortedFunc(maps.Keys(lock.Images), addrs.Addr.Compare) {
		r.recs = append(r.recs, recFrag{a, r.frag(a, lock.Images[a])})
	}
	r.disk = r.frags(nil)
	r.cond = sync.NewCond(&r.mu)
	r.work = sync.NewCond(&r.mu)
	go r.loop()
	return r
}

// Set records e at addr and returns once the lockfile on disk holds it. It
// rejects an invalid address or entry without writing.
func (r *Recorder) Set(addr addrs.Addr, e Entry) error {
	return r.Update(nil, map[addrs.Addr]Entry{addr: e})
}

// Delete removes addr's entry (absent is fine) and returns once the
// lockfile on disk no longer holds it.
func (r *Recorder) Delete(addr addrs.Addr) error {
	return r.Update([]addrs.Addr{addr}, nil)
}

// Update applies deletes, then sets, as one change that reaches disk in a
// single write: an address move (delete the old address, set the new one at
// the same path) is never half done. It returns once the change is on disk.
//
// A failed write is returned to every caller whose change it carried, and
// to every later call: the lockfile can no longer be trusted to keep up, so
// the run must stop. An invalid change is returned to its caller only.
func (r *Recorder) Update(deletes []addrs.Addr, sets map[addrs.Addr]Entry) error {
	return r.Record(context.Background(), deletes, sets)
}

// Record is Update that stops waiting when ctx is done, so that a hung
// disk keeps no caller after the run is cancelled: it then returns ctx's
// cause, and the change may still reach disk later (or never).
//
// Its work is split among small functions (checkSets, accept, wait), each
// called from a small frame: every image's commit records on a goroutine
// of its own, whose stack would otherwise grow, by a copy of every frame,
// at the deepest of them.
func (r *Recorder) Record(ctx context.Context, deletes []addrs.Addr, sets map[addrs.Addr]Entry) error {
	if err := r.checkSets(sets); err != nil {
		return err
	}
	g, err := r.accept(deletes, sets)
	if err != nil {
		return err
	}
	return r.wait(ctx, g)
}

// checkSets rejects an invalid address or entry of sets.
func (r *Recorder) checkSets(sets map[addrs.Addr]Entry) error {
	for a, e := range sets {
		if err := checkAddr(a); err != nil {
			return fmt.Errorf("record %s in lockfile %s: %w", a, r.path, err)
		}
		if err := validateEntry(e); err != nil {
			return fmt.Errorf("record %s in lockfile %s: %w", a, r.path, err)
		}
	}
	return nil
}

// accept applies deletes, then sets, to the lockfile to write, and
// returns the number of that change (gen).
func (r *Recorder) accept(deletes []addrs.Addr, sets map[addrs.Addr]Entry) (uint64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return 0, r.err
	}
	if r.closing {
		return 0, ErrRecorderClosed
	}
	for _, a := range deletes {
		if i, ok := r.find(a); ok {
			r.recs = slices.Delete(r.recs, i, i+1)
		}
	}
	for a, e := range sets {
		if r.batch {
			// One syncfs covers every directory: any mark will do.
			r.dirs["."] = true
		} else {
			r.dirs[path.Dir(e.Path)] = true
		}
		f := r.frag(a, e)
		if i, ok := r.find(a); ok {
			r.recs[i].frag = f
		} else {
			r.recs = slices.Insert(r.recs, i, recFrag{a, f})
		}
	}
	r.gen++
	r.work.Signal()
	return r.gen, nil
}

// wait returns once change g is on disk, the write failed (its error), or
// ctx is done.
func (r *Recorder) wait(ctx context.Context, g uint64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() {
			r.mu.Lock()
			r.cond.Broadcast()
			r.mu.Unlock()
		})
		defer stop()
	}
	for r.written < g && r.err == nil && ctx.Err() == nil {
		r.waiting++
		r.cond.Wait()
		r.waiting--
		if r.written < g && r.err == nil && ctx.Err() == nil {
			r.idle++
		}
	}
	switch {
	case r.written >= g:
		return nil
	case r.err != nil:
		return r.err
	}
	return fmt.Errorf("abandoned waiting for the lockfile write: %w", context.Cause(ctx))
}

// recFrag is one entry of the lockfile as a Recorder keeps it: its
// address and its encoding.
type recFrag struct {
	addr addrs.Addr
	frag []byte
}

// find returns the position of a in r.recs, or where it goes, and whether
// it is there. Changes arrive mostly in address order, so the last
// position is tried first.
func (r *Recorder) find(a addrs.Addr) (int, bool) {
	if n := len(r.recs); n == 0 || r.recs[n-1].addr.Compare(a) < 0 {
		return n, false
	}
	return slices.BinarySearchFunc(r.recs, a, func(f recFrag, a addrs.Addr) int { return f.addr.Compare(a) })
}

// frag returns the encoding of e at a (appendEntry), packed when it has
// the common fields only (packFrag), in a slice of its exact size: a run
// keeps one per image, and append's growth would leave a third of each
// unused. It encodes into r.scratch, which the caller holds r.mu for (or
// owns r, before the loop starts).
func (r *Recorder) frag(a addrs.Addr, e Entry) []byte {
	r.scratch = appendEntry(r.scratch[:0], a, e)
	var ok bool
	r.packed, r.check, ok = packFrag(r.packed[:0], r.scratch, r.check)
	if ok {
		return bytes.Clone(r.packed)
	}
	return bytes.Clone(r.scratch)
}

// loop is the writer goroutine.
func (r *Recorder) loop() {
	defer close(r.done)
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		for r.written == r.gen && !r.closing {
			r.work.Wait()
		}
		if r.written == r.gen { // closing, nothing pending
			return
		}
		// A lone change, from a caller that records one change at a time
		// (each waiting for its write), is written at once: waiting
		// would gather nothing and only slow that caller down.
		if wait := r.spacing(); wait > 0 && (r.busy || r.gen-r.written > 1) {
			// Let more changes gather so that a large lockfile is not
			// rewritten once per image: the wait is a multiple of what the
			// last write cost, so writing takes a bounded share of the time
			// and a run's total lockfile I/O grows linearly, not
			// quadratically, with its images.
			r.mu.Unlock()
			r.sleep(wait)
			r.mu.Lock()
		}
		g := r.gen
		carried := g - r.written
		data := r.frags(r.spare)
		r.spare = nil
		dirs := r.dirs
		r.dirs = map[string]bool{}
		r.mu.Unlock()
		start := r.now()
		err := r.syncDirs(dirs)
		if err == nil {
			err = bare(r.put(data))
		}
		end := r.now()
		r.mu.Lock()
		r.lastStart, r.lastCost = start, end.Sub(start)
		r.busy = r.gen != g || carried > 1
		r.writes++
		if err != nil {
			r.err = fmt.Errorf("write lockfile %s: %w", r.path, err)
			r.cond.Broadcast()
			return
		}
		r.written = g
		clear(r.disk) // let replaced fragments go
		r.spare, r.disk = r.disk[:0], data
		r.cond.Broadcast()
	}
}

// bare returns err, the failure of a write of the lockfile, without the
// file names that WriteFileAtomic and the os package put in it: each is
// the lockfile or its temporary file beside it, which the Recorder's error
// names once. The operation and its cause (an errno, for errors.Is) stay.
func bare(err error) error {
	var le *os.LinkError
	if errors.As(err, &le) {
		return fmt.Errorf("%s: %w", le.Op, le.Err)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}

// writeShare is the inverse of the largest share of the time that lockfile
// writes may take, and maxSpacing the longest a change waits to gather.
// Each write rewrites the whole lockfile, so a write's cost grows with the
// file; spacing writes by a multiple of that cost keeps a long apply's
// lockfile I/O linear in its images. The ceiling only bounds how long an
// image waits to be recorded on a slow disk.
const (
	writeShare = 4
	maxSpacing = 250 * time.Millisecond
)

// spacing is how long to wait before the next write: until writeShare
// times the last write's cost has passed since it started. The loop waits
// it only while changes arrive concurrently (more than one pending, or
// some arrived during the last write).
func (r *Recorder) spacing() time.Duration {
	if r.lastStart.IsZero() {
		return 0
	}
	want := min(writeShare*r.lastCost, maxSpacing)
	return want - r.now().Sub(r.lastStart)
}

// syncDirs makes the files recorded in this write durable with their
// names: one syncfs where there is one, else an fsync of each directory,
// relative to the lockfile's, of the paths recorded (PlaceTemp has then
// fsynced the files).
func (r *Recorder) syncDirs(dirs map[string]bool) error {
	root := filepath.Dir(r.path)
	if len(dirs) == 0 {
		return nil
	}
	if r.batch {
		return syncTree(root)
	}
	for d := range dirs {
		if err := r.syncDir(filepath.Join(root, filepath.FromSlash(d))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// frags returns the fragments of the lockfile as it stands, in order,
// in buf's storage (the loop passes the slice of the write before last).
// The fragments are shared, not copied: none is changed once made, so a
// write can stream them outside r.mu while changes replace them in recs.
// Called with r.mu held.
func (r *Recorder) frags(buf [][]byte) [][]byte {
	buf = buf[:0]
	for i := range r.recs {
		buf = append(buf, r.recs[i].frag)
	}
	return buf
}

// encodeFrags appends to buf the lockfile of the fragments frags, as
// Lock.Marshal encodes it.
func encodeFrags(buf []byte, frags [][]byte) []byte {
	if len(frags) == 0 {
		return append(buf, lockHead+lockEmptyTail...)
	}
	buf = append(buf, lockHead...)
	buf = append(buf, lockOpen...)
	for i, f := range frags {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = unpackFrag(buf, f)
	}
	return append(buf, lockTail...)
}

// prober is a Journal that can tell, before a run pays for anything,
// whether it can write at all.
type prober interface {
	Probe() error
}

// Probe creates, and removes, a temporary file beside the lockfile, as
// every write of it does first: a directory the user may not write to,
// or a read-only file system, then stops a run before its first request
// instead of at its first record, with the requests paid for.
func (r *Recorder) Probe() error {
	if r.write != nil {
		return nil
	}
	f, err := CreateTemp(r.path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe // names the file; CreateTemp's words name the lockfile again
		}
		return &UnwritableLockError{Path: r.path, Err: err}
	}
	AbortTemp(f)
	return nil
}

// UnwritableLockError is Probe's: the lockfile at Path cannot be written.
type UnwritableLockError struct {
	Path string
	Err  error
}

func (e *UnwritableLockError) Error() string {
	return fmt.Sprintf("the lockfile %s cannot be written (%v)", e.Path, e.Err)
}

func (e *UnwritableLockError) Unwrap() error { return e.Err }

// put writes the lockfile of frags: through r.write when a test set it,
// else streamed to a temporary file beside the lockfile, synced and
// renamed over it, as WriteFileAtomic does.
func (r *Recorder) put(frags [][]byte) error {
	if r.write != nil {
		return r.write(r.path, encodeFrags(nil, frags))
	}
	if r.chunk == nil {
		r.chunk = make([]byte, 0, writeChunk)
	}
	f, err := CreateTemp(r.path)
	if err != nil {
		return err
	}
	if err := writeFrags(f, r.chunk, frags); err != nil {
		AbortTemp(f)
		return fmt.Errorf("write %s: %w", r.path, err)
	}
	return CommitTemp(f, r.path)
}

// writeFrags writes the lockfile of frags to w, gathered in chunk's
// storage (at most cap(chunk) bytes a write).
func writeFrags(w io.Writer, chunk []byte, frags [][]byte) error {
	buf := chunk[:0]
	flush := func() error {
		_, err := w.Write(buf)
		buf = buf[:0]
		return err
	}
	add := func(p []byte) error {
		if len(buf)+len(p) > cap(buf) && len(buf) > 0 {
			if err := flush(); err != nil {
				return err
			}
		}
		if len(p) > cap(buf) {
			_, err := w.Write(p)
			return err
		}
		buf = append(buf, p...)
		return nil
	}
	addString := func(s string) error {
		if len(buf)+len(s) > cap(buf) && len(buf) > 0 {
			if err := flush(); err != nil {
				return err
			}
		}
		if len(s) > cap(buf) {
			_, err := io.WriteString(w, s)
			return err
		}
		buf = append(buf, s...)
		return nil
	}
	// addFrag adds a fragment, unpacking a packed one piece by piece.
	addFrag := func(f []byte) error {
		if len(f) == 0 || f[0] != packedMark {
			return add(f)
		}
		if n := unpackedLen(f); n <= cap(buf) {
			if len(buf)+n > cap(buf) {
				if err := flush(); err != nil {
					return err
				}
			}
			buf = unpackFrag(buf, f)
			return nil
		}
		rest := f[1:]
		if err := addString(fragLits[0]); err != nil {
			return err
		}
		for i := 1; i < len(fragLits); i++ {
			var v []byte
			v, rest = fragValue(rest)
			if err := add(v); err != nil {
				return err
			}
			if err := addString(fragLits[i]); err != nil {
				return err
			}
		}
		return nil
	}
	if len(frags) == 0 {
		if err := add([]byte(lockHead + lockEmptyTail)); err != nil {
			return err
		}
		return flush()
	}
	if err := add([]byte(lockHead + lockOpen)); err != nil {
		return err
	}
	for i, f := range frags {
		if i > 0 {
			if err := add(comma); err != nil {
				return err
			}
		}
		if err := addFrag(f); err != nil {
			return err
		}
	}
	if err := add([]byte(lockTail)); err != nil {
		return err
	}
	return flush()
}

var comma = []byte{','}

// writeChunk is the most that a streamed lockfile write gathers before a
// write(2): large enough that a lockfile of many megabytes takes a few
// dozen system calls, small beside the lockfile it spares a copy of.
const writeChunk = 256 << 10

// Snapshot returns a copy of the lockfile as last written to disk (or as
// given to NewRecorder, before the first write).
func (r *Recorder) Snapshot() *Lock {
	r.mu.Lock()
	frags := slices.Clone(r.disk)
	r.mu.Unlock()
	// Each fragment is decoded on its own, outside r.mu (none is changed
	// once made): no buffer of the whole file, and its entries are
	// neither checked against each other nor encoded again, being the
	// Recorder's own encodings of entries it validated.
	l := &Lock{Images: make(map[addrs.Addr]Entry, len(frags))}
	var buf []byte
	sc := entryScanner{intern: map[string]string{}} // one intern table for every entry, as ParseLock has
	for _, f := range frags {
		buf = unpackFrag(buf[:0], f)
		a, e, _, ok := sc.entry(buf)
		if !ok {
			return r.parseFrags(frags)
		}
		l.Images[a] = e
	}
	return l
}

// parseFrags is Snapshot by ParseLock, should the scanner not read a
// fragment: it reads whatever appendEntry writes.
func (r *Recorder) parseFrags(frags [][]byte) *Lock {
	l, err := ParseLock(encodeFrags(nil, frags), r.path)
	if err != nil { // cannot happen: frags are what appendEntry produced
		panic(fmt.Sprintf("lockfile recorder: parse its own encoding: %v", err))
	}
	return l
}

// Close waits for pending changes to reach disk, stops the writer goroutine
// and returns the sticky write error, if any. It is idempotent.
func (r *Recorder) Close() error {
	r.closed.Do(func() {
		r.mu.Lock()
		r.closing = true
		r.work.Signal()
		r.mu.Unlock()
	})
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}
