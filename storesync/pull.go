package storesync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/media"
	"github.com/pixform/pixform/state"
)

// Step is one file that Pull or Push finished (or failed), for progress.
type Step struct {
	Addr addrs.Addr
	Path string
	// Done of Total steps are finished, this one included.
	Done, Total int
	Bytes       int64
	Err         error
}

// Report is what Pull or Push did.
type Report struct {
	// Done counts the files transferred, Skipped those already in place
	// (pull: the local file is the recorded one; push: the store has it),
	// Failed those that failed.
	Done, Skipped, Failed int
	Bytes                 int64
}

// FileFact is what the disk says of a recorded path: whether a regular
// file is there, and its hash.
type FileFact struct {
	Exists bool
	SHA256 string
}

// Local is the working directory's Store as a download goes through it:
// *state.LocalStore. A file is made in its directory opened with no
// symbolic link followed (CreateTemp), named in the directory at its path
// opened anew the same way (PlaceTemp), and given up where it was made
// (AbortTemp): a directory moved outside the working directory and
// replaced by a link while a file downloads gets nothing through the link.
type Local interface {
	CreateTemp(path string) (*os.File, error)
	AbortTemp(f *os.File)
	PlaceTemp(f *os.File, path string) error
}

// Pull downloads every entry of lock whose file is missing or differs
// (facts, by path), verified by its sha256, into a temporary file that
// local makes beside it, then has local place it. At most s.parallel at a
// time; progress, if not nil, is called once per file, from one goroutine
// at a time. A failed file does not stop the others: the error returned
// is the first, after all are done.
func (s *Sync) Pull(ctx context.Context, local Local, lock *state.Lock, facts map[string]FileFact, progress func(Step)) (Report, error) {
	type todo struct {
		addr addrs.Addr
		e    state.Entry
	}
	var jobs []todo
	var rep Report
	for a, e := range lock.Images {
		if f := facts[e.Path]; f.Exists && f.SHA256 == e.SHA256 {
			rep.Skipped++
			continue
		}
		jobs = append(jobs, todo{a, e})
	}
	slices.SortFunc(jobs, func(a, b todo) int { return a.addr.Compare(b.addr) })
	var mu sync.Mutex
	var first error
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.parallel)
	for _, j := range jobs {
		g.Go(func() error {
			if gctx.Err() != nil {
				return nil
			}
			n, err := s.download(gctx, local, j.addr, j.e)
			return s.step(&mu, &rep, &first, progress, Step{Addr: j.addr, Path: j.e.Path, Total: len(jobs), Bytes: n, Err: err})
		})
	}
	_ = g.Wait()
	// Each file was synced before its rename; one flush makes the names
	// durable, where a sync of each directory per file would cost one
	// more flush an image.
	if len(jobs) > 0 {
		dirs := map[string]bool{}
		for _, j := range jobs {
			dirs[filepath.Dir(filepath.Join(s.dir, filepath.FromSlash(j.e.Path)))] = true
		}
		if err := state.SyncDirs(s.dir, slices.Collect(maps.Keys(dirs))); err != nil && first == nil {
			first = &PlaceError{Path: ".", Err: err}
		}
	}
	if first == nil && ctx.Err() != nil {
		first = &CanceledError{Store: s.r.String(), Doing: "pulling from", Err: ctx.Err()}
	}
	return rep, first
}

// PlaceError is a pulled file that could not be written in place (a
// local disk error): what was pulled before it is in place.
type PlaceError struct {
	Path string
	Err  error
}

func (e *PlaceError) Error() string { return fmt.Sprintf("write %s: %v", e.Path, e.Err) }
func (e *PlaceError) Unwrap() error { return e.Err }

// NotImageError is a pulled object whose bytes hash to the sha256 the
// lockfile records but are not the image it describes: not a whole PNG
// or JPEG, or not of the media type and dimensions recorded. The
// lockfile may come from a pull request: a sha256 proves only which
// bytes it names. Nothing is put at Path.
type NotImageError struct {
	Path string
	Err  error
}

func (e *NotImageError) Error() string { return fmt.Sprintf("pull %s: %v", e.Path, e.Err) }
func (e *NotImageError) Unwrap() error { return e.Err }

// download fetches the object of e, the entry at addr, into a temporary
// file that local makes beside e.Path, and has local sync it and name it
// at e.Path: no partial file is ever at the path. It returns the bytes
// downloaded.
func (s *Sync) download(ctx context.Context, local Local, addr addrs.Addr, e state.Entry) (int64, error) {
	f, err := local.CreateTemp(e.Path)
	if err != nil {
		return 0, &PlaceError{Path: e.Path, Err: err}
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var stream media.Stream
	n, err := s.get(ctx, e.SHA256, io.MultiWriter(f, &stream), e.Bytes)
	if err != nil {
		local.AbortTemp(f)
		var es *errSize
		if errors.As(err, &es) {
			return 0, lockfileSize(s.dir, addr, e.Path, e.SHA256, es)
		}
		return 0, err
	}
	if err := e.IsImage(stream.Result()); err != nil {
		local.AbortTemp(f)
		return 0, &NotImageError{Path: e.Path, Err: err}
	}
	if err := local.PlaceTemp(f, e.Path); err != nil {
		return 0, &PlaceError{Path: e.Path, Err: err}
	}
	s.known(e.SHA256)
	return n, nil
}

// Push uploads every entry of lock whose object the store lacks, from its
// file, which must still be the recorded one (facts, by path). Entries
// whose file is missing or changed are failures that name the file; the
// others are all tried.
func (s *Sync) Push(ctx context.Context, lock *state.Lock, facts map[string]FileFact, progress func(Step)) (Report, error) {
	var sums []string
	for _, e := range lock.Images {
		sums = append(sums, e.SHA256)
		for _, t := range e.Takes {
			sums = append(sums, t.SHA256)
		}
	}
	// The note of uploads is a cache: an object removed from the store
	// since (damaged, or by its lifecycle rules) must be uploaded again.
	if err := s.Recheck(ctx, sums); err != nil {
		return Report{}, err
	}
	type todo struct {
		addr addrs.Addr
		e    state.Entry
		take int // 1-based: a take not at the path, from the content cache
	}
	var jobs []todo
	var rep Report
	queued := map[string]bool{}
	for a, e := range lock.Images {
		if s.up.Has(e.SHA256) || queued[e.SHA256] {
			rep.Skipped++
		} else {
			queued[e.SHA256] = true
			jobs = append(jobs, todo{addr: a, e: e})
		}
		for i, t := range e.Takes {
			if t.SHA256 == e.SHA256 {
				continue
			}
			if s.up.Has(t.SHA256) || queued[t.SHA256] {
				rep.Skipped++
				continue
			}
			queued[t.SHA256] = true
			jobs = append(jobs, todo{addr: a, e: e, take: i + 1})
		}
	}
	slices.SortFunc(jobs, func(a, b todo) int {
		if c := a.addr.Compare(b.addr); c != 0 {
			return c
		}
		return a.take - b.take
	})
	cache := state.OpenCache(s.dir)
	var mu sync.Mutex
	var first error
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.parallel)
	for _, j := range jobs {
		g.Go(func() error {
			if gctx.Err() != nil {
				return nil
			}
			var err error
			if j.take > 0 {
				t := j.e.TakeFull(j.take)
				err = s.uploadTakeRetrying(gctx, cache, j.e.Path, j.e, j.take)
				return s.step(&mu, &rep, &first, progress, Step{Addr: j.addr, Path: fmt.Sprintf("%s (take %d)", j.e.Path, j.take), Total: len(jobs), Bytes: t.Bytes, Err: err})
			}
			if f := facts[j.e.Path]; !f.Exists {
				err = &FileError{Path: j.e.Path, Err: errors.New("the file is missing; run pixform apply to render it again")}
			} else if f.SHA256 != j.e.SHA256 {
				err = &FileError{Path: j.e.Path, Err: errChanged}
			} else if n, ok := s.fileSize(j.e.Path); ok && n != j.e.Bytes {
				// The file is the recorded one, its size is not: the
				// entry's "bytes" is wrong, and would go into the
				// store's record of its inputs, for good.
				se := lockfileSize(s.dir, j.addr, j.e.Path, j.e.SHA256, &errSize{recorded: j.e.Bytes, actual: n})
				se.Local = true
				err = se
			} else {
				err = s.uploadRetrying(gctx, j.e.Path, j.e)
			}
			return s.step(&mu, &rep, &first, progress, Step{Addr: j.addr, Path: j.e.Path, Total: len(jobs), Bytes: j.e.Bytes, Err: err})
		})
	}
	_ = g.Wait()
	if first == nil && ctx.Err() != nil {
		first = &CanceledError{Store: s.r.String(), Doing: "pushing to", Err: ctx.Err()}
	}
	if first != nil && rep.Failed > 0 {
		return rep, fmt.Errorf("%d of %d upload(s) failed, the first: %w", rep.Failed, len(jobs), first)
	}
	return rep, first
}

// step counts one finished file of a pull or push and reports it. A
// failure of the whole store is returned, to stop the rest.
func (s *Sync) step(mu *sync.Mutex, rep *Report, first *error, progress func(Step), st Step) error {
	mu.Lock()
	defer mu.Unlock()
	if st.Err != nil {
		rep.Failed++
		if *first == nil {
			*first = st.Err
		}
	} else {
		rep.Done++
		rep.Bytes += st.Bytes
	}
	st.Done = rep.Done + rep.Failed
	if progress != nil {
		progress(st)
	}
	if st.Err != nil && !s.perObject(st.Err) {
		return st.Err
	}
	return nil
}

// fileSize is the size of the regular file at path (relative), if it
// can be read: one stat, for a push's uploads only.
func (s *Sync) fileSize(path string) (int64, bool) {
	fi, err := os.Lstat(filepath.Join(s.dir, filepath.FromSlash(path)))
	if err != nil || !fi.Mode().IsRegular() {
		return 0, false
	}
	return fi.Size(), true
}
