package storesync

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pixform/pixform/internal/regfile"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

var errNoCache = errors.New("no local content cache")

// PendingError says that recorded images are not in the store yet: the
// apply kept them on disk and in the lockfile, and a later push or apply
// uploads them.
type PendingError struct {
	// Store is the store's URL, for messages.
	Store string
	// N is how many recorded images the store lacks.
	N int
	// Path is the first image that failed to upload, Err why ("" and
	// nil when the uploads were stopped before trying).
	Path string
	Err  error
}

func (e *PendingError) Error() string {
	s := fmt.Sprintf("%d recorded image(s) are not in the store %s yet", e.N, e.Store)
	if e.Path != "" {
		s += fmt.Sprintf("; the first, %s: %v", e.Path, e.Err)
	}
	return s
}

func (e *PendingError) Unwrap() error { return e.Err }

// FileError is a recorded file that could not be read for an upload, or
// whose bytes are no longer the recorded ones.
type FileError struct {
	Path string
	Err  error
}

func (e *FileError) Error() string { return fmt.Sprintf("read %s to upload it: %v", e.Path, e.Err) }
func (e *FileError) Unwrap() error { return e.Err }

// errChanged is the Err of a FileError whose bytes changed since they were
// recorded.
var errChanged = errors.New("the file is no longer the image the lockfile records (edited since?)")

// uploadTries is how often one upload is tried before the store counts as
// down for the rest of the run.
const uploadTries = 3

// retryWait is the wait before each retry of an upload.
func retryWait() []time.Duration { return []time.Duration{200 * time.Millisecond, time.Second} }

// upload sends the recorded file at path (relative) as e's object, then
// records it under e's inputs (a draft's are not: drafts are not restored
// from the store, as from the cache), then notes it.
func (s *Sync) upload(ctx context.Context, path string, e state.Entry) error {
	if err := s.send(ctx, path, e, nil); err != nil {
		return err
	}
	return s.settle(ctx, []string{e.SHA256}, 1)
}

// send is upload without its last step, settle: the object and its
// records are in the store, whole under their names, but not yet made
// durable where the store leaves that to Sync, nor noted or counted.
// data, when not nil, are the bytes to send instead of the file at path:
// bytes that do not hash to e.SHA256 are not sent, and the file is.
func (s *Sync) send(ctx context.Context, path string, e state.Entry, data []byte) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if data != nil {
		h := &hashReader{r: bytes.NewReader(data), h: sha256.New()}
		err := s.put(ctx, e, h)
		if err == nil || !h.eof || hex.EncodeToString(h.h.Sum(nil)) == e.SHA256 {
			return err
		}
	}
	f, err := openNoFollow(filepath.Join(s.dir, filepath.FromSlash(path)))
	if err != nil {
		return &FileError{Path: path, Err: err}
	}
	defer f.Close()
	h := &hashReader{r: f, h: sha256.New()}
	return fileErr(path, e.SHA256, h, s.put(ctx, e, h))
}

// put uploads the bytes h reads as e's object, then records it under
// e's inputs (a draft's are not: drafts are not restored from the store,
// as from the cache), and under those of the take at e's path, before
// the note says the object is in the store.
func (s *Sync) put(ctx context.Context, e state.Entry, h *hashReader) error {
	var digests []string
	rec := Record{SHA256: e.SHA256, Provider: e.Provider, MediaType: e.MediaType, Bytes: e.Bytes, Width: e.Width, Height: e.Height}
	if e.Provider != providers.Draft {
		digests = append(digests, e.Inputs.Digest())
		if n := takeAtPath(e); n > 0 {
			digests = append(digests, e.Inputs.Take(e.Takes[n-1].Seed).Digest())
		}
	}
	if ip, ok := s.r.(inputsPutter); ok {
		return ip.PutWithInputs(ctx, e.SHA256, h, digests, rec)
	}
	if err := s.r.Put(ctx, e.SHA256, h); err != nil {
		return err
	}
	for _, d := range digests {
		if err := s.r.PutInputs(ctx, d, rec); err != nil {
			return err
		}
	}
	return nil
}

// inputsPutter is a Remote that puts an object and its records in one
// step, their bytes made durable together (a file:// store):
// *objstore.Store, through Adapt.
type inputsPutter interface {
	// PutWithInputs is Put of r as the object sum, then PutInputs of rec
	// under each of digests.
	PutWithInputs(ctx context.Context, sum string, r io.Reader, digests []string, rec Record) error
}

// fileErr is err, the failure of an upload of the file at path read
// through h, as a *FileError when the file is to blame: it no longer
// hashes to sum, or could not be read.
func fileErr(path, sum string, h *hashReader, err error) error {
	switch {
	case err == nil:
		return nil
	case h.eof && hex.EncodeToString(h.h.Sum(nil)) != sum:
		return &FileError{Path: path, Err: errChanged}
	case h.err != nil:
		return &FileError{Path: path, Err: h.err}
	}
	return err
}

// settle makes what this Sync wrote to the store durable (durable), then
// notes the objects sums as stored, in one write of the note, and counts
// uploaded more uploads: the last step of the uploads that sent them.
func (s *Sync) settle(ctx context.Context, sums []string, uploaded int) error {
	if len(sums) == 0 {
		return nil
	}
	if err := s.durable(ctx); err != nil {
		return err
	}
	_ = s.up.Add(s.dir, sums...)
	s.uploads.Add(int64(uploaded))
	return nil
}

// takeAtPath is the number of the take of e at its path (its bytes are
// the entry's), or 0 when e has no takes.
func takeAtPath(e state.Entry) int {
	for i, t := range e.Takes {
		if t.SHA256 == e.SHA256 {
			return i + 1
		}
	}
	return 0
}

// uploadTake sends take n of e (not the one at its path) from the local
// content cache, where apply keeps every take (only if absent: a take
// the store holds already is success), then records it under the take's
// own inputs, then notes it. A take the local cache lacks is only
// recorded and noted when the store holds it (rendered, or restored,
// elsewhere); else it cannot go up from here.
func (s *Sync) uploadTake(ctx context.Context, cache LocalCache, path string, e state.Entry, n int) error {
	sent, err := s.sendTake(ctx, cache, path, e, n)
	if err != nil {
		return err
	}
	if err := s.durable(ctx); err != nil {
		return err
	}
	s.known(e.TakeFull(n).SHA256)
	if sent {
		s.uploads.Add(1)
	}
	return nil
}

// sendTake is uploadTake without its last step: the take is in the store,
// not yet made durable where the store leaves that to Sync, nor noted nor
// counted; sent says whether this run sent its bytes (else the store had
// them).
func (s *Sync) sendTake(ctx context.Context, cache LocalCache, path string, e state.Entry, n int) (sent bool, err error) {
	t := e.TakeFull(n)
	digest := e.Inputs.Take(t.Seed).Digest()
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if cache == nil || !cache.Has(digest, e.Provider) {
		ok, err := s.r.Has(ctx, t.SHA256)
		if err != nil {
			return false, err
		}
		if !ok {
			return false, &FileError{Path: path, Err: fmt.Errorf("take %d (seed %d) is not in the local content cache: %w", n, t.Seed, errTakeGone)}
		}
	} else {
		rc, err := cache.Open(digest, e.Provider)
		if err != nil {
			return false, &FileError{Path: path, Err: fmt.Errorf("take %d (seed %d) in the local content cache: %w", n, t.Seed, err)}
		}
		h := &hashReader{r: rc, h: sha256.New()}
		err = s.r.Put(ctx, t.SHA256, h)
		rc.Close()
		if err != nil {
			if h.eof && hex.EncodeToString(h.h.Sum(nil)) != t.SHA256 {
				return false, &FileError{Path: path, Err: fmt.Errorf("take %d (seed %d): the cached copy is not the recorded take", n, t.Seed)}
			}
			if h.err != nil {
				return false, &FileError{Path: path, Err: h.err}
			}
			return false, err
		}
		sent = true
	}
	if e.Provider != providers.Draft {
		rec := Record{SHA256: t.SHA256, Provider: e.Provider, MediaType: t.MediaType, Bytes: t.Bytes, Width: t.Width, Height: t.Height}
		if err := s.r.PutInputs(ctx, digest, rec); err != nil {
			return false, err
		}
	}
	return sent, nil
}

// syncer is a Remote whose writes become durable only at Sync (a file://
// store batches them): *objstore.Store.
type syncer interface {
	Sync(ctx context.Context) error
}

// durable makes what this Sync wrote to the store durable, where the
// store leaves that to Sync: before an object is noted as stored, or
// counted as uploaded.
func (s *Sync) durable(ctx context.Context) error {
	if sy, ok := s.r.(syncer); ok {
		return sy.Sync(ctx)
	}
	return nil
}

// errTakeGone is why a take cannot be uploaded from this machine.
var errTakeGone = errors.New("render it again here with pixform apply -replace=ADDR, or push from the machine that rendered it")

// uploadRetrying is upload tried up to uploadTries times while the store
// fails; a file error is not retried.
func (s *Sync) uploadRetrying(ctx context.Context, path string, e state.Entry) error {
	return s.retrying(ctx, func() error { return s.upload(ctx, path, e) })
}

// sendRetrying is send tried as uploadRetrying tries upload.
func (s *Sync) sendRetrying(ctx context.Context, path string, e state.Entry, data []byte) error {
	return s.retrying(ctx, func() error { return s.send(ctx, path, e, data) })
}

// sendTakeRetrying is sendTake tried as uploadRetrying tries upload.
func (s *Sync) sendTakeRetrying(ctx context.Context, cache LocalCache, path string, e state.Entry, n int) (sent bool, err error) {
	err = s.retrying(ctx, func() error {
		var err error
		sent, err = s.sendTake(ctx, cache, path, e, n)
		return err
	})
	return sent, err
}

// uploadTakeRetrying is uploadTake tried as uploadRetrying tries upload.
func (s *Sync) uploadTakeRetrying(ctx context.Context, cache LocalCache, path string, e state.Entry, n int) error {
	return s.retrying(ctx, func() error { return s.uploadTake(ctx, cache, path, e, n) })
}

// retrying calls up up to uploadTries times while the store fails.
func (s *Sync) retrying(ctx context.Context, up func() error) error {
	var err error
	for i := range uploadTries {
		// A store that let a whole request time out is not asked again.
		if err = up(); err == nil || s.perObject(err) || ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		if i < len(s.waits) {
			select {
			case <-time.After(s.waits[i]):
			case <-ctx.Done():
				return err
			}
		}
	}
	return err
}

// errNotRegular is why a recorded path that holds no regular file (a
// FIFO, a device, a directory) is not uploaded.
var errNotRegular = errors.New("not a regular file, where the lockfile records an image: put the image back, or render it again with pixform apply -replace=ADDR")

// openNoFollow opens the output name for reading, refusing a symbolic
// link at its last component and anything but a regular file, without
// blocking on a FIFO (regfile.Open).
func openNoFollow(name string) (*regfile.File, error) {
	f, err := regfile.Open(name, true)
	if errors.Is(err, regfile.ErrNotRegular) {
		return nil, &os.PathError{Op: "open", Path: name, Err: errNotRegular}
	}
	return f, err
}

type hashReader struct {
	r   io.Reader
	h   hash.Hash
	eof bool
	err error // a read error of the file
}

func (h *hashReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	switch {
	case err == io.EOF:
		h.eof = true
	case err != nil:
		h.err = err
	}
	return n, err
}

// Store is the commit protocol with the image store as its second place:
// every image the local Store commits is then uploaded, by a bounded pool
// of uploaders that overlaps the rendering, and Close waits for them. The
// local commit comes first and alone keeps the lockfile's guarantees; an
// upload that fails leaves the image recorded and on disk, to upload
// later (push), and never makes a request to render it again.
type Store struct {
	*state.LocalStore
	s    *Sync
	plan *planner.Plan

	ctx    context.Context // the uploads'
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []job
	queued  map[string]bool // sums queued this run
	cache   LocalCache      // where the takes not at a path are
	closing bool
	held    atomic.Int64 // bytes the queued jobs hold (data)
	down    error        // the store failed: the rest of the queue is not tried
	done    int
	pending []failure
	// sent are the jobs whose objects and records are in the store, not
	// yet settled (made durable and noted): settled settleEvery at a
	// time, and the rest when the workers stop, before Close counts them.
	sent []job
}

// settleEvery is how many sent uploads wait to be settled together: one
// flush of a file:// store's names and one write of the note for all of
// them, instead of one each (at worst, a kill loses the note of these
// few, which costs a check later).
const settleEvery = 256

type job struct {
	path string
	e    state.Entry
	take int // 1-based: take of e to upload from the content cache; 0: e from path
	// sent says that the take's bytes went up in this run (else the store
	// had them): it counts as an upload once settled.
	sent bool
	// data, when not nil, are e's bytes as committed (Commit's hold): the
	// upload sends them rather than reading path.
	data []byte
}

type failure struct {
	path string
	err  error
}

// Wrap returns local with the store as its second place, for an apply of
// p. Uploads run under ctx: cancelling it leaves the rest for later.
func (s *Sync) Wrap(ctx context.Context, local *state.LocalStore, p *planner.Plan) *Store {
	st := &Store{LocalStore: local, s: s, plan: p, queued: map[string]bool{}, cache: uploadCache(s.dir, local)}
	st.ctx, st.cancel = context.WithCancel(ctx)
	st.cond = sync.NewCond(&st.mu)
	for range s.parallel {
		st.wg.Go(st.work)
	}
	return st
}

var _ state.Store = (*Store)(nil)

// uploadCache is where the uploads read the takes not at a path: the very
// content cache the apply keeps them in (local's), so that a take kept
// after the first upload read the cache is seen too. A state.Cache lists
// its directory once: a second instance opened here would miss every take
// kept after that listing, and fail its upload as a take the cache lacks.
// Only a local store with no cache of its own gets one opened here.
func uploadCache(dir string, local *state.LocalStore) LocalCache {
	if c, ok := local.ContentCache().(LocalCache); ok {
		return c
	}
	return state.OpenCache(dir)
}

// Begin implements state.Store: after the local Begin, the recorded images
// the plan leaves in place and the store lacks start uploading.
func (st *Store) Begin(ctx context.Context, writes []string, rs []state.Removal) error {
	if err := st.LocalStore.Begin(ctx, writes, rs); err != nil {
		return err
	}
	for i := range st.plan.Changes {
		c := &st.plan.Changes[i]
		if c.Upload && c.Action == planner.NoOp && c.Prior != nil {
			st.enqueue(c.Prior.Path, *c.Prior)
		}
	}
	return nil
}

// Commit implements state.Store: the local commit, then the upload.
//
// The upload takes the image's bytes from c.Temp, read before the local
// commit (one pread), rather than reading the file back from its path,
// when they are few enough to hold (holdMax, and heldBudget for all the
// queued uploads together). They are the bytes the entry records: the
// upload checks them against the entry's SHA-256 as it sends them, and
// reads the file at the path when they differ.
func (st *Store) Commit(ctx context.Context, c state.Commit) error {
	data := st.hold(c)
	if err := st.LocalStore.Commit(ctx, c); err != nil {
		st.release(data)
		return err
	}
	st.enqueueHeld(c.Entry.Path, c.Entry, data)
	return nil
}

// holdMax is the largest image whose bytes an upload holds in memory
// between its commit and its upload; heldBudget is what all the queued
// uploads hold at most. Beyond, an upload reads the file at its path.
const (
	holdMax    = 1 << 20
	heldBudget = 16 << 20
)

// hold returns c's image bytes read from c.Temp, or nil when the store is
// known to hold the image, the image is too big, the budget is spent, or
// the read fails (the upload then reads the file at its path).
func (st *Store) hold(c state.Commit) []byte {
	n := c.Entry.Bytes
	if n <= 0 || n > holdMax || c.Temp == nil || st.s.has(c.Entry.SHA256) {
		return nil
	}
	if st.held.Add(n) > heldBudget {
		st.held.Add(-n)
		return nil
	}
	b := make([]byte, n)
	if _, err := c.Temp.ReadAt(b, 0); err != nil {
		st.release(b)
		return nil
	}
	return b
}

// release returns data's bytes to the budget.
func (st *Store) release(data []byte) {
	if data != nil {
		st.held.Add(-int64(len(data)))
	}
}

// PutBack is the local PutBack, then the upload of the image if the store
// lacks it (put back from the local content cache).
func (st *Store) PutBack(ctx context.Context, p state.PutBack) error {
	if err := st.LocalStore.PutBack(ctx, p); err != nil {
		return err
	}
	st.enqueue(p.Entry.Path, p.Entry)
	return nil
}

// End implements state.Store: after the local End, the images the plan
// moved and the store lacks start uploading from where they are now.
func (st *Store) End(ctx context.Context) error {
	err := st.LocalStore.End(ctx)
	snap := st.LocalStore.Snapshot()
	for i := range st.plan.Changes {
		c := &st.plan.Changes[i]
		if !c.Upload || c.Action != planner.Move || c.Prior == nil {
			continue
		}
		if e, ok := snap.Images[c.Addr]; ok && e.SHA256 == c.Prior.SHA256 {
			st.enqueue(e.Path, e)
		}
	}
	return err
}

// Close implements state.Store: the local Close, with the wait for every
// upload (until ctx is done) after the lockfile's and before the content
// cache compacts, so that no upload of a take reads a pack the
// compaction removes. An upload that did not happen makes a
// *PendingError, unless the local Close failed, whose error comes first.
func (st *Store) Close(ctx context.Context) error {
	err := st.LocalStore.CloseThen(ctx, func() {
		st.mu.Lock()
		st.closing = true
		st.cond.Broadcast()
		st.mu.Unlock()
		stop := context.AfterFunc(ctx, st.cancel)
		st.wg.Wait()
		stop()
		st.cancel()
	})
	if err != nil {
		return err
	}
	// The objects the plan found in the store count as stored only once
	// the flush that makes them durable has ended: a flush of the file
	// system, which no cancellation stops, so it is waited for even then.
	serr := st.s.Settle(context.WithoutCancel(ctx))
	st.mu.Lock()
	defer st.mu.Unlock()
	n := len(st.pending) + len(st.queue)
	if n == 0 {
		return serr
	}
	pe := &PendingError{Store: st.s.r.String(), N: n}
	if len(st.pending) > 0 {
		pe.Path, pe.Err = st.pending[0].path, st.pending[0].err
	}
	if serr != nil {
		// The objects the plan found are not known durable either.
		return errors.Join(pe, serr)
	}
	return pe
}

// Uploaded is how many images this run uploaded.
func (st *Store) Uploaded() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.done
}

// enqueue queues e's upload from path, and that of each of its takes.
func (st *Store) enqueue(path string, e state.Entry) {
	st.enqueueHeld(path, e, nil)
}

// enqueueHeld is enqueue of an image whose bytes data holds (or nil).
func (st *Store) enqueueHeld(path string, e state.Entry, data []byte) {
	st.enqueueTakes(path, e)
	if st.s.has(e.SHA256) {
		st.release(data)
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.queued[e.SHA256] {
		st.release(data)
		return
	}
	st.queued[e.SHA256] = true
	st.queue = append(st.queue, job{path: path, e: e, data: data})
	st.cond.Signal()
}

// enqueueTakes queues the upload of every take of e that is not at its
// path and that the store is not known to hold.
func (st *Store) enqueueTakes(path string, e state.Entry) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for i, t := range e.Takes {
		if t.SHA256 == e.SHA256 || st.s.has(t.SHA256) || st.queued[t.SHA256] {
			continue
		}
		st.queued[t.SHA256] = true
		st.queue = append(st.queue, job{path: path, e: e, take: i + 1})
		st.cond.Signal()
	}
}

// work uploads queued images until Close, and then the rest of the
// queue, unless the store is down or the uploads' ctx is done. What it
// sent is settled in batches (settleEvery), and what is left when it
// stops, before it returns.
func (st *Store) work() {
	for {
		st.mu.Lock()
		for len(st.queue) == 0 && !st.closing {
			st.cond.Wait()
		}
		if len(st.queue) == 0 || st.down != nil || st.ctx.Err() != nil {
			batch := st.sent
			st.sent = nil
			st.mu.Unlock()
			st.settle(batch)
			return
		}
		j := st.queue[0]
		st.queue[0] = job{} // its held bytes go with j, not with the queue's array
		st.queue = st.queue[1:]
		st.mu.Unlock()

		var err error
		if j.take > 0 {
			j.sent, err = st.s.sendTakeRetrying(st.ctx, st.cache, j.path, j.e, j.take)
		} else {
			err = st.s.sendRetrying(st.ctx, j.path, j.e, j.data)
		}
		st.release(j.data)
		j.data = nil
		var batch []job
		st.mu.Lock()
		switch {
		case err == nil:
			st.sent = append(st.sent, j)
			if len(st.sent) >= settleEvery {
				batch = st.sent
				st.sent = nil
			}
		default:
			st.fail(j, err)
		}
		st.mu.Unlock()
		st.settle(batch)
	}
}

// fail notes j's failure; a failure of the whole store stops the rest.
// The caller holds st.mu.
func (st *Store) fail(j job, err error) {
	st.pending = append(st.pending, failure{j.path, err})
	if !st.s.perObject(err) && st.down == nil {
		st.down = err
		st.cond.Broadcast()
	}
}

// settle makes the uploads of batch durable, notes and counts them: done
// when that succeeds, pending when it fails.
func (st *Store) settle(batch []job) {
	if len(batch) == 0 {
		return
	}
	sums := make([]string, len(batch))
	uploaded := 0
	for i, j := range batch {
		if j.take > 0 {
			sums[i] = j.e.TakeFull(j.take).SHA256
			if j.sent {
				uploaded++
			}
		} else {
			sums[i] = j.e.SHA256
			uploaded++
		}
	}
	// Not under st.ctx: what is in the store is made durable and noted
	// even when the uploads stop.
	err := st.s.settle(context.WithoutCancel(st.ctx), sums, uploaded)
	st.mu.Lock()
	defer st.mu.Unlock()
	if err != nil {
		for _, j := range batch {
			st.fail(j, err)
		}
		return
	}
	st.done += len(batch)
}
