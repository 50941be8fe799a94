package storesync

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/pixform/pixform/state"
)

// DefaultTimeout bounds one request to the store (a whole image's upload
// or download included).
const DefaultTimeout = 2 * time.Minute

// DefaultParallelism bounds the store requests in flight at once: checks,
// uploads and downloads.
const DefaultParallelism = 16

// LocalParallelism is DefaultParallelism for a store in a directory of
// the local file system (file://): its uploads cost no network but wait
// for flushes of the file system, each shared by every upload waiting at
// the time, so more of them in flight make fewer flushes.
const LocalParallelism = 64

// Sync is one working directory's link to one image store: what this
// process and the note under .pixform/ know to be in it.
type Sync struct {
	dir      string
	r        Remote
	up       *state.Uploaded
	parallel int

	// PerObject reports whether a failure of the store concerns one
	// object only (it is missing, or corrupt), rather than the store as a
	// whole (unreachable, credentials): a failure of the whole store
	// stops a pull or push, and the uploads of an apply, at once. Nil
	// means every failure concerns the whole store.
	PerObject func(error) bool
	uploads   atomic.Int64 // images this Sync uploaded
	// Timeout bounds each request to the store, so that a store that
	// stops answering (a dead network) fails rather than hangs.
	Timeout time.Duration
	// waits are the pauses before the retries of an upload.
	waits []time.Duration

	// Ahead makes Check and FetchRecords count the objects they find in
	// a store whose names become durable only at a flush (a file://
	// store) as in the store at once, for this process, and run that
	// flush in the background, noting them once it has ended, instead of
	// waiting for it: a command that sets it (apply) plans and works
	// while the flush runs, and calls Settle before it reports any of
	// them as stored.
	Ahead bool

	mu      sync.Mutex
	records map[string]Record // by input digest, as GetInputs answered
	// ahead are the objects found by a check with Ahead, in the store
	// for this process but not noted until their flush has ended.
	ahead map[string]bool
	// flushes are the background flushes of the checks with Ahead,
	// closed as each ends; aheadErr is the first one's failure.
	flushes  []chan struct{}
	aheadErr error
}

// perObject reports whether err concerns one object or one local file.
func (s *Sync) perObject(err error) bool {
	if errors.As(err, new(*FileError)) || errors.As(err, new(*NotImageError)) || errors.As(err, new(*SizeError)) {
		return true
	}
	return s.PerObject != nil && s.PerObject(err)
}

// New links the working directory dir to the store r; parallel bounds its
// requests in flight (below 1: DefaultParallelism).
func New(dir string, r Remote, parallel int) (*Sync, error) {
	up, err := state.OpenUploaded(dir, r.String())
	if err != nil {
		return nil, err
	}
	if parallel < 1 {
		parallel = DefaultParallelism
	}
	return &Sync{dir: dir, r: r, up: up, parallel: parallel, records: map[string]Record{}, waits: retryWait(), Timeout: DefaultTimeout}, nil
}

// Remote is the store.
func (s *Sync) Remote() Remote { return s.r }

// Close waits for the background flushes of the checks with Ahead, then
// closes the note of uploads.
func (s *Sync) Close() error {
	s.mu.Lock()
	fs := s.flushes
	s.mu.Unlock()
	for _, f := range fs {
		<-f
	}
	return s.up.Close()
}

// FlushError is the failure of the flush that was to make durable the
// objects a check found in the store (in the background, with Ahead, or
// before it notes them): they are not counted as stored, nor noted, and
// the next check asks about them again.
type FlushError struct {
	// Store is the store's URL, for messages.
	Store string
	Err   error
}

func (e *FlushError) Error() string {
	msg := e.Err.Error()
	if strings.Contains(msg, e.Store) { // an *objstore.Error names it
		return "the images found in the store are not counted as stored: the flush that was to make them durable failed: " + msg
	}
	return fmt.Sprintf("the images found in the store %s are not counted as stored: the flush that was to make them durable failed: %s", e.Store, msg)
}

func (e *FlushError) Unwrap() error { return e.Err }

// CanceledError is a command cancelled (a second interrupt) while it was
// asking a local store about its objects, pulling or pushing, before it
// had done so for every object.
type CanceledError struct {
	// Store is the store's URL, for messages; Doing what the command
	// was doing with it ("asking", "pulling from", "pushing to").
	Store, Doing string
	Err          error
}

func (e *CanceledError) Error() string {
	return fmt.Sprintf("stopped %s the store %s: %v", e.Doing, e.Store, e.Err)
}

func (e *CanceledError) Unwrap() error { return e.Err }

// Settle waits for the background flushes of the checks with Ahead
// (until ctx is done) and returns the first one's failure, as a
// *FlushError: the objects they found may then not be durable in the
// store, and are not noted.
func (s *Sync) Settle(ctx context.Context) error {
	s.mu.Lock()
	fs := s.flushes
	s.mu.Unlock()
	for _, f := range fs {
		select {
		case <-f:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.aheadErr != nil {
		return &FlushError{Store: s.r.String(), Err: s.aheadErr}
	}
	return nil
}

// InStore reports whether the object sum is known to be in the store.
func (s *Sync) InStore(sum string) bool { return s.has(sum) }

// has reports whether the object sum is noted, or was found by a check
// with Ahead.
func (s *Sync) has(sum string) bool {
	if s.up.Has(sum) {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ahead[sum]
}

// known notes that the store holds sum. A note that cannot be written
// only costs a check later.
func (s *Sync) known(sum string) { _ = s.up.Add(s.dir, sum) }

// Check asks the store about every object of sums that the note does not
// know, at most s.parallel at a time, and notes those it holds. The first
// failure stops it and is returned.
func (s *Sync) Check(ctx context.Context, sums []string) error {
	return s.check(ctx, sums, true)
}

// Recheck is Check asking about every object of sums, noted or not, and
// forgetting the noted ones the store no longer holds (removed from the
// store, by hand or by its lifecycle rules): push uploads them again.
func (s *Sync) Recheck(ctx context.Context, sums []string) error {
	return s.check(ctx, sums, false)
}

func (s *Sync) check(ctx context.Context, sums []string, trustNote bool) error {
	// The objects found (and those gone) are noted together at the end,
	// in one write of the note, not one write each.
	var found, gone []string
	defer func() {
		_ = s.up.Add(s.dir, found...)
		_ = s.up.Forget(s.dir, gone...)
	}()
	keep := func(sum string, ok bool) {
		if ok {
			found = append(found, sum)
		} else if s.up.Has(sum) {
			gone = append(gone, sum)
		}
	}
	err := each(ctx, s, sums, func(sum string) bool { return trustNote && s.has(sum) }, s.r.Has, keep)
	if len(found) > 0 && s.Ahead && err == nil {
		if _, ok := s.r.(flusher); ok {
			s.flushAhead(ctx, found)
			found = nil // noted by flushAhead, after its flush
			return nil
		}
	}
	if len(found) > 0 {
		// Another process may have named an object found and not yet
		// made it durable: one flush before any is noted.
		if ferr := s.flush(ctx); ferr != nil {
			found = nil
			if err == nil {
				err = &FlushError{Store: s.r.String(), Err: ferr}
			}
		}
	}
	return err
}

// localWorkers bounds the requests to a store on a local file system
// (instant) made at once: each is a system call answered at once, so a
// few, up to the cores, overlap one another's time in the kernel, and
// more would only wait for a core.
const localWorkers = 4

// each asks about each key of keys that skip does not rule out, once,
// hands each answer to keep, and returns the first failure. keep is
// never called twice at once.
//
// On a store that answers at once (a local file system: instant) at most
// min(localWorkers, GOMAXPROCS) asks run at a time, each on a goroutine
// that takes the next key in turn (no goroutine or timer a key), and no
// key is taken once one has failed or ctx is done. keep is then called
// in the order of keys, by the caller, for the keys before the first that
// failed, whose failure is returned: what the caller keeps and the error
// are those of asking in turn and stopping at the first failure (a
// cancelled ctx's, a CanceledError). Elsewhere at most
// s.parallel asks run at a time, each bounded by s.bound, and keep is
// called as their answers come.
func each[T any](ctx context.Context, s *Sync, keys []string, skip func(string) bool, ask func(context.Context, string) (T, error), keep func(string, T)) error {
	seen := map[string]bool{}
	if s.instant() {
		var todo []string
		for _, k := range keys {
			if seen[k] || skip(k) {
				continue
			}
			seen[k] = true
			todo = append(todo, k)
		}
		workers := min(localWorkers, runtime.GOMAXPROCS(0), len(todo))
		vals := make([]T, len(todo))
		errs := make([]error, len(todo))
		var next atomic.Int64
		var failed atomic.Bool
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for !failed.Load() {
					i := int(next.Add(1) - 1)
					if i >= len(todo) {
						return
					}
					// A local ask may not look at ctx: a cancelled
					// command takes no key after it, as a remote
					// store's asks would fail.
					if err := ctx.Err(); err != nil {
						errs[i] = &CanceledError{Store: s.r.String(), Doing: "asking", Err: err}
						failed.Store(true)
						return
					}
					if vals[i], errs[i] = ask(ctx, todo[i]); errs[i] != nil {
						failed.Store(true)
					}
				}
			})
		}
		wg.Wait()
		// Every key before one that failed was taken, and answered.
		for i, k := range todo {
			if errs[i] != nil {
				return errs[i]
			}
			keep(k, vals[i])
		}
		return nil
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.parallel)
	for _, k := range keys {
		if seen[k] || skip(k) {
			continue
		}
		seen[k] = true
		g.Go(func() error {
			ctx, cancel := s.bound(gctx)
			defer cancel()
			v, err := ask(ctx, k)
			if err != nil {
				return err
			}
			mu.Lock()
			keep(k, v)
			mu.Unlock()
			return nil
		})
	}
	return g.Wait()
}

// flushAhead counts the objects found as in the store for this process
// at once, and notes them after a flush of the store that it runs in the
// background (Settle waits for it).
func (s *Sync) flushAhead(ctx context.Context, found []string) {
	done := make(chan struct{})
	s.mu.Lock()
	if s.ahead == nil {
		s.ahead = map[string]bool{}
	}
	for _, x := range found {
		s.ahead[x] = true
	}
	s.flushes = append(s.flushes, done)
	s.mu.Unlock()
	// The flush is not cancelled with the command: what it found is
	// noted only once it has ended, and Close waits for it.
	ctx = context.WithoutCancel(ctx)
	go func() {
		defer close(done)
		if err := s.flush(ctx); err != nil {
			s.mu.Lock()
			if s.aheadErr == nil {
				s.aheadErr = err
			}
			s.mu.Unlock()
			return
		}
		_ = s.up.Add(s.dir, found...)
	}()
}

// instanter is a Remote that may be a directory of a local file system,
// whose requests are system calls answered at once: *objstore.Store.
type instanter interface {
	Instant() bool
}

// instant reports whether the store's requests are answered at once.
func (s *Sync) instant() bool {
	i, ok := s.r.(instanter)
	return ok && i.Instant()
}

// flusher is a Remote on a file system where an object's name becomes
// durable only at a flush of it (a file:// store): *objstore.Store.
type flusher interface {
	Flush(ctx context.Context) error
}

// flush makes every object in the store durable, whoever wrote it, where
// the store leaves that to a flush of its file system.
func (s *Sync) flush(ctx context.Context) error {
	if f, ok := s.r.(flusher); ok {
		return f.Flush(ctx)
	}
	return nil
}

// FetchRecords reads the store's records of renders of the inputs with
// these digests, at most s.parallel at a time, then checks that the
// objects they name are there.
func (s *Sync) FetchRecords(ctx context.Context, digests []string) error {
	type found struct {
		rec Record
		ok  bool
	}
	read := func(ctx context.Context, d string) (found, error) {
		rec, ok, err := s.r.GetInputs(ctx, d)
		return found{rec, ok}, err
	}
	keep := func(d string, f found) {
		if f.ok {
			s.mu.Lock()
			s.records[d] = f.rec
			s.mu.Unlock()
		}
	}
	if err := each(ctx, s, digests, func(string) bool { return false }, read, keep); err != nil {
		return err
	}
	s.mu.Lock()
	var sums []string
	for _, rec := range s.records {
		sums = append(sums, rec.SHA256)
	}
	s.mu.Unlock()
	return s.Check(ctx, sums)
}

// Stored answers planner.Input.Stored from the records FetchRecords read:
// the object a render of digest by provider produced, if the store holds
// it.
func (s *Sync) Stored(digest, provider string) (string, bool) {
	s.mu.Lock()
	rec, ok := s.records[digest]
	s.mu.Unlock()
	if !ok || rec.Provider != provider || !s.has(rec.SHA256) {
		return "", false
	}
	return rec.SHA256, true
}

// Uploads is how many images this Sync uploaded.
func (s *Sync) Uploads() int { return int(s.uploads.Load()) }

// SetParallelism bounds the store requests in flight at n (at least 1).
func (s *Sync) SetParallelism(n int) { s.parallel = max(n, 1) }

// bound is ctx with the deadline of one request.
func (s *Sync) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.Timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, s.Timeout)
}
