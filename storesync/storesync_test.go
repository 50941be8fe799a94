package storesync

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

// fakeRemote is an in-memory store that can be made to fail.
type fakeRemote struct {
	mu      sync.Mutex
	objects map[string][]byte
	records map[string]Record
	down    error // every call fails with it
	puts    int
}

func newFake() *fakeRemote {
	return &fakeRemote{objects: map[string][]byte{}, records: map[string]Record{}}
}

func (f *fakeRemote) String() string { return "fake://store" }

func (f *fakeRemote) Has(_ context.Context, sum string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down != nil {
		return false, f.down
	}
	_, ok := f.objects[sum]
	return ok, nil
}

func (f *fakeRemote) Put(_ context.Context, sum string, r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down != nil {
		return f.down
	}
	if h := sha256.Sum256(b); hex.EncodeToString(h[:]) != sum {
		return errors.New("corrupt")
	}
	f.puts++
	f.objects[sum] = b
	return nil
}

func (f *fakeRemote) Get(_ context.Context, sum string, w io.Writer, max int64) error {
	f.mu.Lock()
	b, ok := f.objects[sum]
	down := f.down
	f.mu.Unlock()
	if down != nil {
		return down
	}
	if !ok {
		return errors.New("not found")
	}
	_, err := w.Write(b)
	return err
}

func (f *fakeRemote) PutInputs(_ context.Context, d string, rec Record) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down != nil {
		return f.down
	}
	f.records[d] = rec
	return nil
}

func (f *fakeRemote) GetInputs(_ context.Context, d string) (Record, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down != nil {
		return Record{}, false, f.down
	}
	r, ok := f.records[d]
	return r, ok, nil
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// commitFile commits data at path through st, as the executor does.
func commitFile(t *testing.T, st state.Store, a, path string, data []byte) state.Entry {
	t.Helper()
	f, err := st.CreateTemp(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(data)
	e := state.Entry{Inputs: state.Inputs{Prompt: a, Style: "flux-dev", AspectRatio: "1:1", Seed: 1}, Provider: providers.Imagine,
		Path: path, SHA256: sum(data), Bytes: int64(len(data)), MediaType: "image/png", Width: 1, Height: 1}
	if err := st.Commit(context.Background(), state.Commit{Addr: addrs.MustParse(a), Entry: e, Temp: f}); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestStoreUploadsEveryCommit(t *testing.T) {
	dir := t.TempDir()
	r := newFake()
	s, err := New(dir, r, 4)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st := s.Wrap(ctx, state.OpenStore(dir, state.NewLock(), nil), &planner.Plan{})
	if err := st.Begin(ctx, nil, nil); err != nil {
		t.Fatal(err)
	}
	var es []state.Entry
	for i := range 20 {
		es = append(es, commitFile(t, st, fmt.Sprintf("image.i%d", i), fmt.Sprintf("i%d.png", i), []byte(fmt.Sprint("bytes ", i))))
	}
	if err := st.End(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, e := range es {
		if _, ok := r.objects[e.SHA256]; !ok {
			t.Errorf("%s not uploaded", e.Path)
		}
		if rec := r.records[e.Inputs.Digest()]; rec.SHA256 != e.SHA256 {
			t.Errorf("%s: record %+v", e.Path, rec)
		}
	}
	// The note knows them: a second link uploads nothing again.
	s2, _ := New(dir, r, 4)
	for _, e := range es {
		if !s2.InStore(e.SHA256) {
			t.Errorf("%s not noted as uploaded", e.Path)
		}
	}
}

func TestStoreDownKeepsTheRender(t *testing.T) {
	dir := t.TempDir()
	r := newFake()
	r.down = errors.New("connection refused")
	s, _ := New(dir, r, 2)
	s.waits = nil
	ctx := context.Background()
	local := state.OpenStore(dir, state.NewLock(), nil)
	st := s.Wrap(ctx, local, &planner.Plan{})
	st.Begin(ctx, nil, nil)
	for i := range 5 {
		commitFile(t, st, fmt.Sprintf("image.i%d", i), fmt.Sprintf("i%d.png", i), []byte(fmt.Sprint("bytes ", i)))
	}
	st.End(ctx)
	err := st.Close(ctx)
	var pe *PendingError
	if !errors.As(err, &pe) || pe.N != 5 {
		t.Fatalf("Close = %v, want a PendingError of 5", err)
	}
	// Recorded and on disk all the same.
	b, _ := os.ReadFile(filepath.Join(dir, state.LockFileName))
	lock, err := state.ParseLock(b, "lock")
	if err != nil || len(lock.Images) != 5 {
		t.Fatalf("lockfile: %v, %d entries", err, len(lock.Images))
	}
	// A push once the store is back uploads them.
	r.down = nil
	facts := map[string]FileFact{}
	for _, e := range lock.Images {
		facts[e.Path] = FileFact{Exists: true, SHA256: e.SHA256}
	}
	s2, _ := New(dir, r, 2)
	rep, err := s2.Push(ctx, lock, facts, nil)
	if err != nil || rep.Done != 5 {
		t.Fatalf("Push: %+v, %v", rep, err)
	}
	rep, err = s2.Push(ctx, lock, facts, nil)
	if err != nil || rep.Done != 0 || rep.Skipped != 5 {
		t.Fatalf("second Push: %+v, %v", rep, err)
	}
}

func TestPullRestoresMissingAndChanged(t *testing.T) {
	dir := t.TempDir()
	r := newFake()
	lock := state.NewLock()
	for i := range 3 {
		data := pngOf(t, i)
		r.objects[sum(data)] = data
		lock.Images[addrs.MustParse(fmt.Sprintf("image.i%d", i))] = pngEntry(fmt.Sprintf("d/i%d.png", i), data)
	}
	os.MkdirAll(filepath.Join(dir, "d"), 0o755)
	os.WriteFile(filepath.Join(dir, "d/i1.png"), []byte("edited"), 0o644)
	s, _ := New(dir, r, 2)
	var steps int
	rep, err := s.Pull(context.Background(), localStore(t, dir), lock, map[string]FileFact{"d/i1.png": {Exists: true, SHA256: sum([]byte("edited"))}}, func(Step) { steps++ })
	if err != nil || rep.Done != 3 || steps != 3 {
		t.Fatalf("Pull: %+v, %v, %d steps", rep, err, steps)
	}
	for i := range 3 {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("d/i%d.png", i)))
		if err != nil || !bytes.Equal(b, pngOf(t, i)) {
			t.Errorf("i%d: %q, %v", i, b, err)
		}
	}
}

// syncRemote is a fakeRemote whose writes become durable only at Sync,
// as a file:// store's.
type syncRemote struct {
	*fakeRemote
	s     *Sync
	syncs int
	noted []bool // at each Sync: did the note already know the object?
	fail  error
	sum   string
}

func (r *syncRemote) Sync(context.Context) error {
	r.mu.Lock()
	r.syncs++
	r.mu.Unlock()
	r.noted = append(r.noted, r.s.InStore(r.sum))
	return r.fail
}

// TestUploadSyncsBeforeNoting: an upload notes its object as stored only
// once the store made it durable; when that fails, the upload fails and
// nothing is noted.
func TestUploadSyncsBeforeNoting(t *testing.T) {
	dir := t.TempDir()
	r := &syncRemote{fakeRemote: newFake()}
	s, err := New(dir, r, 4)
	if err != nil {
		t.Fatal(err)
	}
	r.s = s
	ctx := context.Background()
	st := state.OpenStore(dir, state.NewLock(), nil)
	if err := st.Begin(ctx, nil, nil); err != nil {
		t.Fatal(err)
	}
	e := commitFile(t, st, "image.a", "a.png", []byte("bytes of a"))
	r.sum = e.SHA256
	if err := s.upload(ctx, e.Path, e); err != nil {
		t.Fatal(err)
	}
	if len(r.noted) != 1 || r.noted[0] || !s.InStore(e.SHA256) {
		t.Fatalf("noted at each Sync: %v, noted after: %v; want one Sync before the note", r.noted, s.InStore(e.SHA256))
	}
	r.fail = errors.New("flush failed")
	e2 := commitFile(t, st, "image.b", "b.png", []byte("bytes of b"))
	r.sum = e2.SHA256
	if err := s.upload(ctx, e2.Path, e2); !errors.Is(err, r.fail) {
		t.Errorf("upload with a failing Sync: %v", err)
	}
	if s.InStore(e2.SHA256) || s.Uploads() != 1 {
		t.Errorf("an object whose Sync failed was noted (%v) or counted (%d uploads)", s.InStore(e2.SHA256), s.Uploads())
	}
}

// TestUploadRefusesSymlink: an upload reads the recorded file itself,
// never what a symbolic link put at its path points to.
func TestUploadRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	r := newFake()
	s, err := New(dir, r, 4)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st := state.OpenStore(dir, state.NewLock(), nil)
	if err := st.Begin(ctx, nil, nil); err != nil {
		t.Fatal(err)
	}
	e := commitFile(t, st, "image.a", "a.png", []byte("bytes of a"))
	if err := os.Rename(filepath.Join(dir, "a.png"), filepath.Join(dir, "elsewhere.png")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("elsewhere.png", filepath.Join(dir, "a.png")); err != nil {
		t.Fatal(err)
	}
	err = s.upload(ctx, e.Path, e)
	if fe := (*FileError)(nil); !errors.As(err, &fe) {
		t.Errorf("upload through a symbolic link: %v, want a *FileError", err)
	}
	if len(r.objects) != 0 || s.InStore(e.SHA256) {
		t.Error("the bytes behind the symbolic link were uploaded")
	}
	if err := os.Remove(filepath.Join(dir, "a.png")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "elsewhere.png"), filepath.Join(dir, "a.png")); err != nil {
		t.Fatal(err)
	}
	if err := s.upload(ctx, e.Path, e); err != nil || !s.InStore(e.SHA256) {
		t.Errorf("upload of the file itself: %v", err)
	}
}

// flushRemote is a fakeRemote on a file system whose names become
// durable only at a flush, as a file:// store's.
type flushRemote struct {
	*fakeRemote
	flushes int
	fail    error
}

func (r *flushRemote) Flush(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.flushes++
	return r.fail
}

// TestCheckFlushesBeforeNoting: objects a check finds in a store whose
// names another process may not have flushed yet are noted only after
// one flush; when it fails, none is noted.
func TestCheckFlushesBeforeNoting(t *testing.T) {
	ctx := context.Background()
	r := &flushRemote{fakeRemote: newFake()}
	var sums []string
	for _, b := range []string{"one", "two", "three"} {
		r.objects[sum([]byte(b))] = []byte(b)
		sums = append(sums, sum([]byte(b)))
	}
	s, err := New(t.TempDir(), r, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r.fail = errors.New("flush failed")
	err = s.Check(ctx, sums)
	if fle := (*FlushError)(nil); !errors.Is(err, r.fail) || !errors.As(err, &fle) {
		t.Errorf("Check with a failing flush: %v, want a *FlushError of it", err)
	}
	for _, x := range sums {
		if s.InStore(x) {
			t.Errorf("%s noted though the flush failed", x)
		}
	}
	r.fail = nil
	r.flushes = 0
	if err := s.Check(ctx, sums); err != nil {
		t.Fatal(err)
	}
	if r.flushes != 1 {
		t.Errorf("%d flushes for a check, want 1", r.flushes)
	}
	for _, x := range sums {
		if !s.InStore(x) {
			t.Errorf("%s not noted", x)
		}
	}
}

// TestUploadRefusesFIFO: an upload whose recorded path holds a FIFO
// fails at once, a file error, rather than waiting for a writer forever.
func TestUploadRefusesFIFO(t *testing.T) {
	dir := t.TempDir()
	r := newFake()
	s, err := New(dir, r, 4)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st := state.OpenStore(dir, state.NewLock(), nil)
	if err := st.Begin(ctx, nil, nil); err != nil {
		t.Fatal(err)
	}
	e := commitFile(t, st, "image.a", "a.png", []byte("bytes of a"))
	if err := os.Remove(filepath.Join(dir, "a.png")); err != nil {
		t.Fatal(err)
	}
	if err := mkfifo(t, filepath.Join(dir, "a.png"), 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.upload(ctx, e.Path, e) }()
	select {
	case err := <-done:
		if fe := (*FileError)(nil); !errors.As(err, &fe) {
			t.Errorf("upload of a FIFO: %v, want a *FileError", err)
		}
	case <-time.After(time.Minute): // a hang guard, not a timing
		// Unblock the open so that the test ends.
		if f, err := os.OpenFile(filepath.Join(dir, "a.png"), os.O_WRONLY, 0); err == nil {
			f.Close()
		}
		t.Fatal("upload of a FIFO still waits after a minute")
	}
	if len(r.objects) != 0 || s.InStore(e.SHA256) {
		t.Error("something was uploaded from the FIFO")
	}
}

// countingSyncRemote is a fakeRemote whose writes become durable only at
// Sync, which it counts; it fails once fail is set.
type countingSyncRemote struct {
	*fakeRemote
	s           *Sync
	syncs       int
	durable     map[string]bool // objects a Sync that succeeded covered
	notedBefore int             // objects noted before a Sync covered them
	fail        error
}

func (r *countingSyncRemote) Sync(context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.syncs++
	for sum := range r.objects {
		if r.s.InStore(sum) && !r.durable[sum] {
			r.notedBefore++
		}
		if r.fail == nil {
			r.durable[sum] = true
		}
	}
	return r.fail
}

// TestStoreSettlesUploadsTogether: an apply's uploads make their objects
// durable and note them a batch at a time, not one flush each, and
// never note an object before a flush; a flush that fails leaves the
// batch pending, not counted as uploaded.
func TestStoreSettlesUploadsTogether(t *testing.T) {
	for name, fail := range map[string]error{"ok": nil, "flush fails": errors.New("flush failed")} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			r := &countingSyncRemote{fakeRemote: newFake(), fail: fail, durable: map[string]bool{}}
			s, err := New(dir, r, 4)
			if err != nil {
				t.Fatal(err)
			}
			r.s = s
			ctx := context.Background()
			st := s.Wrap(ctx, state.OpenStore(dir, state.NewLock(), nil), &planner.Plan{})
			if err := st.Begin(ctx, nil, nil); err != nil {
				t.Fatal(err)
			}
			const n = 64
			var es []state.Entry
			for i := range n {
				es = append(es, commitFile(t, st, fmt.Sprintf("image.i%d", i), fmt.Sprintf("i%d.png", i), []byte(fmt.Sprintf("bytes %d", i))))
			}
			if err := st.End(ctx); err != nil {
				t.Fatal(err)
			}
			err = st.Close(ctx)
			r.mu.Lock()
			syncs, before := r.syncs, r.notedBefore
			r.mu.Unlock()
			if syncs > 4 {
				t.Errorf("%d uploads made %d flushes, want at most one a worker", n, syncs)
			}
			if before != 0 {
				t.Errorf("%d object(s) noted before a flush made them durable", before)
			}
			if fail == nil {
				if err != nil || st.Uploaded() != n || s.Uploads() != n {
					t.Fatalf("Close = %v, %d uploaded (Sync counts %d), want nil and %d", err, st.Uploaded(), s.Uploads(), n)
				}
				for _, e := range es {
					if !s.InStore(e.SHA256) {
						t.Errorf("%s: not noted after Close", e.Path)
					}
				}
				return
			}
			var pe *PendingError
			if !errors.As(err, &pe) || pe.N != n || st.Uploaded() != 0 || s.Uploads() != 0 {
				t.Fatalf("Close = %v, %d uploaded, want a PendingError of %d and none uploaded", err, st.Uploaded(), n)
			}
			for _, e := range es {
				if s.InStore(e.SHA256) {
					t.Errorf("%s: noted though its flush failed", e.Path)
				}
			}
		})
	}
}

// gatedRemote is a fakeRemote whose first Put waits for open.
type gatedRemote struct {
	*fakeRemote
	started chan struct{}
	open    chan struct{}
	once    sync.Once
}

func (r *gatedRemote) Put(ctx context.Context, sum string, rd io.Reader) error {
	r.once.Do(func() {
		close(r.started)
		<-r.open
	})
	return r.fakeRemote.Put(ctx, sum, rd)
}

// TestStoreUploadsCommittedBytes: an apply's upload sends the bytes it
// committed, held from the commit, not what is at the path when the
// upload's turn comes: an image whose file was removed or edited after
// its commit still goes up whole, as recorded.
func TestStoreUploadsCommittedBytes(t *testing.T) {
	dir := t.TempDir()
	r := &gatedRemote{fakeRemote: newFake(), started: make(chan struct{}), open: make(chan struct{})}
	s, err := New(dir, r, 1)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st := s.Wrap(ctx, state.OpenStore(dir, state.NewLock(), nil), &planner.Plan{})
	if err := st.Begin(ctx, nil, nil); err != nil {
		t.Fatal(err)
	}
	commitFile(t, st, "image.a", "a.png", []byte("bytes of a"))
	<-r.started // the one uploader is busy with a
	b := commitFile(t, st, "image.b", "b.png", []byte("bytes of b"))
	c := commitFile(t, st, "image.c", "c.png", []byte("bytes of c"))
	if err := os.Remove(filepath.Join(dir, "b.png")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "c.png"), []byte("edited c"), 0o644); err != nil {
		t.Fatal(err)
	}
	close(r.open)
	if err := st.End(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(ctx); err != nil {
		t.Fatalf("Close = %v, want every committed image uploaded", err)
	}
	for _, e := range []state.Entry{b, c} {
		if got := r.objects[e.SHA256]; sum(got) != e.SHA256 {
			t.Errorf("%s: the store holds %q, want the committed bytes", e.Path, got)
		}
	}
	if st.held.Load() != 0 {
		t.Errorf("%d bytes still counted as held after Close", st.held.Load())
	}
}

// gatedFlushRemote is a flushRemote whose flushes wait for gate.
type gatedFlushRemote struct {
	*flushRemote
	gate chan struct{}
}

func (r *gatedFlushRemote) Flush(ctx context.Context) error {
	<-r.gate
	return r.flushRemote.Flush(ctx)
}

// TestCheckAheadFlushesInTheBackground: with Ahead, the objects a check
// finds in a store whose names become durable only at a flush count as
// in the store for this process at once, while the flush runs; they are
// noted only once it has ended, not at all when it fails, and an apply's
// store does not succeed before it has ended, nor when it failed.
func TestCheckAheadFlushesInTheBackground(t *testing.T) {
	for name, fail := range map[string]error{"ok": nil, "flush fails": errors.New("flush failed")} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			r := &gatedFlushRemote{flushRemote: &flushRemote{fakeRemote: newFake(), fail: fail}, gate: make(chan struct{})}
			var sums []string
			for _, b := range []string{"one", "two", "three"} {
				r.objects[sum([]byte(b))] = []byte(b)
				sums = append(sums, sum([]byte(b)))
			}
			s, err := New(dir, r, 4)
			if err != nil {
				t.Fatal(err)
			}
			s.Ahead = true
			if err := s.Check(ctx, sums); err != nil {
				t.Fatal(err)
			}
			for _, x := range sums {
				if !s.InStore(x) {
					t.Errorf("%s found, but not in the store for this process", x)
				}
			}
			noted := func() int {
				s2, err := New(dir, r, 4)
				if err != nil {
					t.Fatal(err)
				}
				defer s2.Close()
				n := 0
				for _, x := range sums {
					if s2.InStore(x) {
						n++
					}
				}
				return n
			}
			if n := noted(); n != 0 {
				t.Errorf("%d object(s) noted before their flush ended", n)
			}
			st := s.Wrap(ctx, state.OpenStore(dir, state.NewLock(), nil), &planner.Plan{})
			if err := st.Begin(ctx, nil, nil); err != nil {
				t.Fatal(err)
			}
			if err := st.End(ctx); err != nil {
				t.Fatal(err)
			}
			closed := make(chan error, 1)
			go func() { closed <- st.Close(ctx) }()
			select {
			case err := <-closed:
				t.Fatalf("the apply's store closed (%v) before the flush ended", err)
			case <-time.After(50 * time.Millisecond):
			}
			close(r.gate)
			if err := <-closed; !errors.Is(err, fail) {
				t.Errorf("Close = %v, want %v", err, fail)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			want := len(sums)
			if fail != nil {
				want = 0
			}
			if n := noted(); n != want {
				t.Errorf("%d object(s) noted after the flush, want %d", n, want)
			}
			if r.puts != 0 {
				t.Errorf("%d object(s) uploaded, though the store had them", r.puts)
			}
		})
	}
}

// instantRemote is a fakeRemote on a local file system: its checks are
// answered at once, and it counts how many run at the same time.
type instantRemote struct {
	*fakeRemote
	now, most atomic.Int32
	fail      map[string]error // Has of these sums fails so
	asked     atomic.Int32     // calls of Has
	cancelAt  int32            // the call of Has that calls cancel
	cancel    func()
}

func (r *instantRemote) Instant() bool { return true }

// enter counts one more call at once, for a millisecond, and returns the
// function that counts it out.
func (r *instantRemote) enter() (leave func()) {
	n := r.now.Add(1)
	for {
		m := r.most.Load()
		if n <= m || r.most.CompareAndSwap(m, n) {
			break
		}
	}
	time.Sleep(time.Millisecond)
	return func() { r.now.Add(-1) }
}

func (r *instantRemote) Has(ctx context.Context, sum string) (bool, error) {
	defer r.enter()()
	if r.asked.Add(1) == r.cancelAt {
		r.cancel()
	}
	if err := r.fail[sum]; err != nil {
		return false, err
	}
	return r.fakeRemote.Has(ctx, sum)
}

// localBound is how many requests to a store on a local file system run
// at once, at most.
func localBound() int32 { return int32(min(localWorkers, runtime.GOMAXPROCS(0))) }

// TestCheckInstantStoreAsksFewAtOnce: a store on a local file system is
// checked by a few goroutines, no more than the cores (each check is a
// stat, answered at once), with the same findings: held objects noted,
// missing ones not.
func TestCheckInstantStoreAsksFewAtOnce(t *testing.T) {
	ctx := context.Background()
	r := &instantRemote{fakeRemote: newFake()}
	var held, missing []string
	for i := range 20 {
		b := []byte(fmt.Sprint("object ", i))
		if i%2 == 0 {
			r.objects[sum(b)] = b
			held = append(held, sum(b))
		} else {
			missing = append(missing, sum(b))
		}
	}
	s, err := New(t.TempDir(), r, 8)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Check(ctx, append(append([]string{}, held...), missing...)); err != nil {
		t.Fatal(err)
	}
	if m := r.most.Load(); m > localBound() {
		t.Errorf("%d checks ran at once, want at most %d", m, localBound())
	}
	for _, x := range held {
		if !s.InStore(x) {
			t.Errorf("%s held but not noted", x)
		}
	}
	for _, x := range missing {
		if s.InStore(x) {
			t.Errorf("%s missing but noted", x)
		}
	}
}

func (r *instantRemote) GetInputs(ctx context.Context, d string) (Record, bool, error) {
	defer r.enter()()
	return r.fakeRemote.GetInputs(ctx, d)
}

// TestFetchRecordsInstantStoreReadsFewAtOnce: the records of a store on
// a local file system are read by a few goroutines, no more than the
// cores, with the same result.
func TestFetchRecordsInstantStoreReadsFewAtOnce(t *testing.T) {
	ctx := context.Background()
	r := &instantRemote{fakeRemote: newFake()}
	var digests []string
	for i := range 20 {
		b := []byte(fmt.Sprint("render ", i))
		d := sum([]byte(fmt.Sprint("inputs ", i)))
		digests = append(digests, d)
		if i%2 == 0 {
			r.objects[sum(b)] = b
			r.records[d] = Record{SHA256: sum(b), Provider: "imagine"}
		}
	}
	s, err := New(t.TempDir(), r, 8)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.FetchRecords(ctx, digests); err != nil {
		t.Fatal(err)
	}
	if m := r.most.Load(); m > localBound() {
		t.Errorf("%d reads ran at once, want at most %d", m, localBound())
	}
	for i, d := range digests {
		if _, ok := s.Stored(d, "imagine"); ok != (i%2 == 0) {
			t.Errorf("record %d: stored %v, want %v", i, ok, i%2 == 0)
		}
	}
}

// TestCheckInstantStoreStopsWhenCancelled: checks of a store on a local
// file system stop soon after the command is cancelled (a second
// interrupt), with the cancellation as their error, as a remote store's
// do, rather than asking about every object left.
func TestCheckInstantStoreStopsWhenCancelled(t *testing.T) {
	var sums []string
	r := &instantRemote{fakeRemote: newFake(), fail: map[string]error{}, cancelAt: 5}
	for i := range 200 {
		b := []byte(fmt.Sprint("object ", i))
		sums = append(sums, sum(b))
		r.objects[sum(b)] = b
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r.cancel = cancel
	s, err := New(t.TempDir(), r, 8)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Check(ctx, sums)
	var ce *CanceledError
	if !errors.Is(err, context.Canceled) || !errors.As(err, &ce) || !strings.Contains(err.Error(), r.String()) {
		t.Errorf("Check after cancel: %v, want a CanceledError naming the store, of context.Canceled", err)
	}
	// Each goroutine finishes the call it is in, and takes no other.
	if n := r.asked.Load(); n > r.cancelAt+localWorkers {
		t.Errorf("%d objects asked about, want at most %d after cancelling at the %dth", n, r.cancelAt+localWorkers, r.cancelAt)
	}
}

// TestCheckInstantStoreAsInTurn: the checks of a store on a local file
// system, made by a few goroutines, end as checks made in turn do: the
// first failure in the order asked (not the first to happen) is
// returned, the objects found before it are noted, in that order, and
// none after it; with no failure, all, in order.
func TestCheckInstantStoreAsInTurn(t *testing.T) {
	ctx := context.Background()
	var sums []string
	objects := map[string][]byte{}
	for i := range 60 {
		b := []byte(fmt.Sprint("object ", i))
		sums = append(sums, sum(b))
		if i%3 != 0 {
			objects[sum(b)] = b
		}
	}
	for _, failAt := range []int{-1, 0, 7, 40, 58} {
		t.Run(fmt.Sprint("failing at ", failAt), func(t *testing.T) {
			// note checks sums with GOMAXPROCS procs, and returns the
			// error and the note of uploads it left.
			note := func(procs int) (string, string) {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				r := &instantRemote{fakeRemote: newFake(), fail: map[string]error{}}
				maps.Copy(r.objects, objects)
				if failAt >= 0 {
					// A later object fails too, and may fail first.
					for _, i := range []int{failAt, failAt + 1, 59} {
						r.fail[sums[i]] = fmt.Errorf("stat object %d: input/output error", i)
					}
				}
				dir := t.TempDir()
				s, err := New(dir, r, 8)
				if err != nil {
					t.Fatal(err)
				}
				err = s.Check(ctx, sums)
				s.Close()
				var b []byte
				des, _ := os.ReadDir(filepath.Join(dir, ".pixform", "store"))
				for _, de := range des {
					x, rerr := os.ReadFile(filepath.Join(dir, ".pixform", "store", de.Name()))
					if rerr != nil {
						t.Fatal(rerr)
					}
					// Its first line ties it to its checkout.
					if bytes.HasPrefix(x, []byte("pixform uploaded ")) {
						x = x[bytes.IndexByte(x, '\n')+1:]
					}
					b = append(b, x...)
				}
				return fmt.Sprint(err), string(b)
			}
			wantErr, wantNote := note(1)
			if failAt >= 0 && !strings.Contains(wantErr, fmt.Sprintf("object %d:", failAt)) {
				t.Fatalf("in turn: error %s, want object %d's", wantErr, failAt)
			}
			for range 5 {
				gotErr, gotNote := note(4)
				if gotErr != wantErr {
					t.Errorf("error %s, want %s (in turn)", gotErr, wantErr)
				}
				if gotNote != wantNote {
					t.Errorf("note of uploads:\n%s\nwant (in turn):\n%s", gotNote, wantNote)
				}
			}
		})
	}
}
