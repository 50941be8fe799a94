package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/pixform/pixform/addrs"
)

func readLockT(t testing.TB, p string) *Lock {
	t.Helper()
	l, err := ReadLock(p)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// A Recorder refuses an address that no lockfile key holds, without
// writing.
func TestRecorderBadAddr(t *testing.T) {
	p := filepath.Join(t.TempDir(), LockFileName)
	r := NewRecorder(p, NewLock())
	defer r.Close()
	bad := addrs.Addr{Name: "hero", Kind: addrs.NoKey, Index: 3}
	if err := r.Set(bad, entryN(0)); err == nil || !strings.Contains(err.Error(), "canonical") {
		t.Fatalf("Set of %#v: err = %v, want \"canonical\"", bad, err)
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Errorf("lockfile written after a refused Set: %v", err)
	}
}

func TestRecorderSequence(t *testing.T) {
	moved := entryN(1)
	moved.Path = entryN(0).Path
	type step struct {
		dels    []string
		sets    map[string]Entry
		wantErr string
	}
	tests := map[string]struct {
		start *Lock
		steps []step
		want  map[string]string // addr -> path after all steps
	}{
		"set into empty": {
			start: NewLock(),
			steps: []step{{sets: map[string]Entry{"image.a": entryN(0)}}},
			want:  map[string]string{"image.a": entryN(0).Path},
		},
		"replace then delete": {
			start: lockN(2),
			steps: []step{
				{sets: map[string]Entry{"image.img[0]": entryN(5)}},
				{dels: []string{"image.img[1]"}},
				{dels: []string{"image.absent"}},
			},
			want: map[string]string{"image.img[0]": entryN(5).Path},
		},
		"invalid entry is refused, not sticky": {
			start: NewLock(),
			steps: []step{
				{sets: map[string]Entry{"image.a": {}}, wantErr: "inputs.prompt is empty"},
				{sets: map[string]Entry{"image.b": entryN(0)}},
			},
			want: map[string]string{"image.b": entryN(0).Path},
		},
		"own path in another case": {
			start: lockN(1),
			steps: []step{{sets: map[string]Entry{"image.img[0]": withPath(entryN(0), "images/IMG-00000.png")}}},
			want:  map[string]string{"image.img[0]": "images/IMG-00000.png"},
		},
		"pixform's own path is refused": {
			start: NewLock(),
			steps: []step{{sets: map[string]Entry{"image.a": withPath(entryN(0), ".Pixform/x.png")}, wantErr: "pixform's own"}},
			want:  map[string]string{},
		},
		"address move in one update": {
			start: lockN(1),
			steps: []step{{dels: []string{"image.img[0]"}, sets: map[string]Entry{"image.b": moved}}},
			want:  map[string]string{"image.b": entryN(0).Path},
		},
		"path swap in one update": {
			start: lockN(2),
			steps: []step{{sets: map[string]Entry{
				"image.img[0]": withPath(entryN(0), entryN(1).Path),
				"image.img[1]": withPath(entryN(1), entryN(0).Path),
			}}},
			want: map[string]string{"image.img[0]": entryN(1).Path, "image.img[1]": entryN(0).Path},
		},
		"own path reused after replace": {
			start: lockN(1),
			steps: []step{
				{sets: map[string]Entry{"image.img[0]": withPath(entryN(0), "other.png")}},
				{sets: map[string]Entry{"image.b": entryN(0)}},
			},
			want: map[string]string{"image.img[0]": "other.png", "image.b": entryN(0).Path},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), LockFileName)
			r := NewRecorder(p, tc.start)
			defer r.Close()
			for i, s := range tc.steps {
				err := r.Update(parseAddrs(s.dels), parseKeyed(s.sets))
				if s.wantErr == "" && err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if s.wantErr != "" && (err == nil || !strings.Contains(err.Error(), s.wantErr)) {
					t.Fatalf("step %d: err = %v, want %q", i, err, s.wantErr)
				}
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			onDisk := readLockT(t, p)
			if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
				onDisk = tc.start // nothing accepted, nothing written
			}
			for a, e := range onDisk.Images {
				got[a.String()] = e.Path
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("lockfile has %v, want %v", got, tc.want)
			}
			if snap := r.Snapshot(); len(snap.Images) != len(tc.want) {
				t.Fatalf("snapshot has %d entries, want %d", len(snap.Images), len(tc.want))
			}
		})
	}
}

func withPath(e Entry, p string) Entry { e.Path = p; return e }

func TestRecorderOwnsACopy(t *testing.T) {
	l := lockN(1)
	r := NewRecorder(filepath.Join(t.TempDir(), LockFileName), l)
	defer r.Close()
	if err := r.Set(addrs.MustParse("image.b"), entryN(7)); err != nil {
		t.Fatal(err)
	}
	if len(l.Images) != 1 {
		t.Fatal("recorder changed the caller's lock")
	}
	s := r.Snapshot()
	delete(s.Images, addrs.MustParse("image.b"))
	if len(r.Snapshot().Images) != 2 {
		t.Fatal("snapshot shares the recorder's map")
	}
}

func TestRecorderConcurrent(t *testing.T) {
	p := filepath.Join(t.TempDir(), LockFileName)
	r := NewRecorder(p, NewLock())
	const workers, each = 16, 50
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				n := w*each + i
				if err := r.Set(addrs.MustParse(fmt.Sprintf("image.img[%d]", n)), entryN(n)); err != nil {
					t.Error(err)
					return
				}
				// Once Set returns, the entry must be on disk.
				if i == each-1 {
					if _, ok := readLockT(t, p).Images[addrs.MustParse(fmt.Sprintf("image.img[%d]", n))]; !ok {
						t.Errorf("entry %d not on disk after Set returned", n)
					}
				}
			}
		})
	}
	wg.Wait()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if got := len(readLockT(t, p).Images); got != workers*each {
		t.Fatalf("lockfile has %d entries, want %d", got, workers*each)
	}
	if r.writes > workers*each {
		t.Fatalf("%d writes for %d sets", r.writes, workers*each)
	}
}

// TestRecorderGroupCommit holds the first write and checks that every change
// arriving meanwhile is committed by exactly one more write.
func TestRecorderGroupCommit(t *testing.T) {
	for name, waiting := range map[string]int{"one waiter": 1, "many waiters": 20} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), LockFileName)
			entered := make(chan struct{}, 1)
			release := make(chan struct{})
			first := true
			r := newRecorder(p, NewLock(), func(path string, data []byte) error {
				if first {
					first = false
					entered <- struct{}{}
					<-release
				}
				return WriteFileAtomic(path, data)
			})
			wg := queueBehindWrite(t, r, entered, waiting)
			close(release)
			wg.Wait()
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			if r.writes != 2 {
				t.Fatalf("%d writes, want 2 (one held, one for the whole group)", r.writes)
			}
			if got := len(readLockT(t, p).Images); got != waiting+1 {
				t.Fatalf("%d entries on disk, want %d", got, waiting+1)
			}
		})
	}
}

func TestRecorderWriteErrorIsSticky(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// The lockfile's directory is a regular file: every write fails.
	r := NewRecorder(filepath.Join(blocker, LockFileName), lockN(1))
	err1 := r.Set(addrs.MustParse("image.a"), entryN(3))
	if err1 == nil || !strings.Contains(err1.Error(), "write lockfile") {
		t.Fatalf("first Set: %v", err1)
	}
	if err2 := r.Delete(addrs.MustParse("image.img[0]")); !errors.Is(err2, err1) && err2 != err1 {
		t.Fatalf("later Delete: %v, want the sticky %v", err2, err1)
	}
	if err := r.Close(); err != err1 {
		t.Fatalf("Close: %v", err)
	}
	if n := len(r.Snapshot().Images); n != 1 {
		t.Fatalf("snapshot has %d entries, want the 1 last written (initial)", n)
	}
}

// A failed write is stated as a fact: the lockfile, named once, and the
// operation that failed with its cause, which errors.Is still finds; what
// to do is for the views to say.
func TestRecorderWriteErrorMessage(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, LockFileName)
	// A non-empty directory where the lockfile goes: no rename replaces it.
	if err := os.MkdirAll(filepath.Join(p, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := NewRecorder(p, NewLock())
	err := r.Set(addrs.MustParse("image.a"), entryN(1))
	r.Close()
	if err == nil {
		t.Fatal("Set succeeded with a directory at the lockfile's path")
	}
	msg := err.Error()
	if want := "write lockfile " + p + ": rename: "; !strings.HasPrefix(msg, want) {
		t.Errorf("error %q does not start with %q", msg, want)
	}
	if n := strings.Count(msg, LockFileName); n != 1 {
		t.Errorf("error names the lockfile %d times, want once: %q", n, msg)
	}
	// The advice is looked for outside the path, which may hold any word.
	if rest := strings.ReplaceAll(msg, p, ""); strings.Contains(rest, "apply") || strings.Contains(rest, "recorded") {
		t.Errorf("error %q gives advice", msg)
	}
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		t.Errorf("error %q lost its errno", msg)
	}
}

func TestRecorderClose(t *testing.T) {
	p := filepath.Join(t.TempDir(), LockFileName)
	r := NewRecorder(p, NewLock())
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := r.Set(addrs.MustParse("image.a"), entryN(0)); !errors.Is(err, ErrRecorderClosed) {
		t.Fatalf("Set after Close: %v", err)
	}
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a Recorder with no changes wrote the lockfile")
	}
}

// BenchmarkRecorder10k records 10,000 images from 16 goroutines and reports
// how many full lockfile writes that took.
func BenchmarkRecorder10k(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		p := filepath.Join(b.TempDir(), LockFileName)
		r := NewRecorder(p, NewLock())
		b.StartTimer()
		var wg sync.WaitGroup
		const workers, total = 16, 10000
		for w := range workers {
			wg.Go(func() {
				for n := w; n < total; n += workers {
					if err := r.Set(addrs.MustParse(fmt.Sprintf("image.img[%d]", n)), entryN(n)); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		if err := r.Close(); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(r.writes), "writes/op")
	}
}

func TestRecorderEncodeMatchesMarshal(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, LockFileName)
	r := NewRecorder(p, lockN(30))
	steps := []func() error{
		func() error { return r.Set(addrs.MustParse("image.a"), entryN(100)) },
		func() error { return r.Delete(addrs.MustParse("image.img[7]")) },
		func() error { return r.Set(addrs.MustParse("image.img[3]"), entryN(103)) },
		func() error {
			return r.Update([]addrs.Addr{addrs.MustParse("image.a"), addrs.MustParse("image.img[0]")}, map[addrs.Addr]Entry{addrs.MustParse("image.z"): entryN(100)})
		},
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if want := r.Snapshot().Marshal(); string(data) != string(want) {
			t.Fatalf("step %d: file differs from Marshal of the snapshot", i)
		}
	}
	r.Close()
}

// queueBehindWrite sets image.first, waits until its write has entered
// (the test's write hook sends on entered and holds), then sets n more
// changes from their own goroutines and returns once the Recorder has
// accepted all of them, so that they wait behind the held write.
func queueBehindWrite(t *testing.T, r *Recorder, entered <-chan struct{}, n int) *sync.WaitGroup {
	t.Helper()
	wg := new(sync.WaitGroup)
	wg.Go(func() {
		if err := r.Set(addrs.MustParse("image.first"), entryN(0)); err != nil {
			t.Error(err)
		}
	})
	<-entered
	for i := range n {
		wg.Go(func() {
			if err := r.Set(addrs.MustParse(fmt.Sprintf("image.w[%d]", i)), entryN(i+1)); err != nil {
				t.Error(err)
			}
		})
	}
	for {
		r.mu.Lock()
		g := r.gen
		r.mu.Unlock()
		if g == uint64(n+1) {
			return wg
		}
		runtimeGosched()
	}
}

// A change arriving while others wait for their write wakes the writer
// alone, not every caller still waiting: with hundreds of images waiting
// for one group write, waking them all on each arrival cost more CPU than
// the images themselves.
func TestRecorderChangeWakesNoWaiter(t *testing.T) {
	p := filepath.Join(t.TempDir(), LockFileName)
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	first := true
	r := newRecorder(p, NewLock(), func(path string, data []byte) error {
		if first {
			first = false
			entered <- struct{}{}
			<-release
		}
		return WriteFileAtomic(path, data)
	})
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := r.Set(addrs.MustParse("image.first"), entryN(0)); err != nil {
			t.Error(err)
		}
	})
	<-entered // the first write is held; image.first waits for it
	const n = 10
	for i := range n {
		wg.Go(func() {
			if err := r.Set(addrs.MustParse(fmt.Sprintf("image.w[%d]", i)), entryN(i+1)); err != nil {
				t.Error(err)
			}
		})
		// One at a time: each arrives while all before it wait.
		for {
			r.mu.Lock()
			w := r.waiting
			r.mu.Unlock()
			if w == i+2 {
				break
			}
			runtimeGosched()
		}
	}
	r.mu.Lock()
	idle := r.idle
	r.mu.Unlock()
	close(release)
	wg.Wait()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if idle != 0 {
		t.Fatalf("%d wake-ups of waiting callers by later changes, want 0", idle)
	}
	if got := len(readLockT(t, p).Images); got != n+1 {
		t.Fatalf("%d entries on disk, want %d", got, n+1)
	}
}

// Where no one flush of the file system covers the working directory
// (NFS, CIFS, FUSE), the Recorder syncs the directory of each path it
// records before the write that names it; where one does, it syncs none
// of them one by one.
func TestRecorderSyncsEachDirWhereNoFlushCovers(t *testing.T) {
	for _, batch := range []bool{false, true} {
		dir := t.TempDir()
		r := newRecorder(filepath.Join(dir, LockFileName), NewLock(), nil)
		r.batch = batch
		var mu sync.Mutex
		synced := map[string]int{}
		r.syncDir = func(d string) error {
			mu.Lock()
			defer mu.Unlock()
			synced[d]++
			return nil
		}
		top := entryN(1)
		top.Path = "top.png"
		if err := r.Update(nil, map[addrs.Addr]Entry{addrs.MustParse("image.a"): entryN(0), addrs.MustParse("image.b"): top}); err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		got := len(synced)
		mu.Unlock()
		if batch && got != 0 {
			t.Errorf("one flush covers the directory, but the Recorder synced %v one by one", synced)
		}
		if !batch && (synced[filepath.Join(dir, "images")] != 1 || synced[dir] != 1 || got != 2) {
			t.Errorf("no flush covers the directory: synced %v, want %s and %s once each", synced, filepath.Join(dir, "images"), dir)
		}
	}
}
