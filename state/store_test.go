package state

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/pixform/pixform/addrs"
)

func TestIsTempOf(t *testing.T) {
	bases := map[string]bool{"a.png": true, "tile-3.png": true, "pixform.lock.json": true}
	tests := map[string]struct {
		name string
		want bool
	}{
		"temp of a target":           {".pixform-tmp-a.png-123456", true},
		"temp of a dashed target":    {".pixform-tmp-tile-3.png-42", true},
		"temp of the lockfile":       {".pixform-tmp-pixform.lock.json-7", true},
		"the target itself":          {"a.png", false},
		"temp of another file":       {".pixform-tmp-b.png-123", false},
		"no random suffix":           {".pixform-tmp-a.png-", false},
		"suffix not digits":          {".pixform-tmp-a.png-12x", false},
		"prefix of a longer base":    {".pixform-tmp-tile-3.png.bak-1", false},
		"someone else's temp":        {".tmp-a.png-123", false},
		"no dash at all":             {".pixform-tmp-a.png", false},
		"target named like the temp": {".pixform-tmp-tile-3.png", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := isTempOf(tc.name, bases); got != tc.want {
				t.Errorf("isTempOf(%q) = %v, want %v", tc.name, got, tc.want)
			}
		})
	}
}

// A hung disk keeps no caller once ctx is done: the Store's commit returns
// a *RecordError wrapping the cancellation, and Close returns too.
func TestStoreWaitsSelectOnContext(t *testing.T) {
	dir := t.TempDir()
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	r := newRecorder(filepath.Join(dir, LockFileName), NewLock(), func(path string, data []byte) error {
		entered <- struct{}{}
		<-release // the disk hangs
		return WriteFileAtomic(path, data)
	})
	defer func() {
		close(release)
		r.Close()
	}()
	s := NewStore(dir, NewLock(), r, nil)
	ctx, cancel := context.WithCancel(context.Background())
	f, err := s.CreateTemp("a.png")
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("image")
	e := entryN(1)
	e.Path = "a.png"
	done := make(chan error, 1)
	go func() { done <- s.Commit(ctx, Commit{Addr: addrs.MustParse("image.a"), Entry: e, Temp: f}) }()
	<-entered
	cancel()
	err = <-done
	var re *RecordError
	if !errors.As(err, &re) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Commit after cancel: %v, want a *RecordError wrapping context.Canceled", err)
	}
	if err := s.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Close after cancel: %v, want context.Canceled", err)
	}
}

// A staged move copy that a kill left in .pixform/staging is removed by
// the next run's RemoveStaleTemps. One whose move is held, because the
// move that had to leave its path failed, is removed at once: the file it
// copies is still in place (image.a stays at a.png).
func TestStagedCopiesCleared(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.png"), []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	// b.png is a directory holding a file: reading it fails.
	mkdir(t, dir, "b.png")
	write(t, dir, "b.png/x")
	ea, eb := entryN(0), entryN(1)
	ea.Path, ea.SHA256 = "a.png", sumOf("a")
	eb.Path, eb.SHA256 = "b.png", sumOf("b")
	s := NewStore(dir, NewLock(), nopJournal{}, nil)
	var warnings []string
	w := func(m string) { warnings = append(warnings, m) }
	errs := make([]error, 2)
	s.Move(context.Background(), []Move{
		{From: Prior{Addr: addrs.MustParse("image.a"), Entry: ea}, To: addrs.MustParse("image.b"), Path: "b.png", Warn: w},
		{From: Prior{Addr: addrs.MustParse("image.b"), Entry: eb}, To: addrs.MustParse("image.a"), Path: "a.png", Warn: w},
	}, func(i int, err error, _ bool) { errs[i] = err })
	var he *HeldError
	if !errors.As(errs[0], &he) || errs[1] == nil {
		t.Errorf("moves: %v, want the first held by the second's failure", errs)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, WorkDirName, stagingDirName, "*")); len(left) != 0 || len(warnings) != 0 {
		t.Errorf("staged copies left: %v, warnings %q", left, warnings)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "a.png")); err != nil || string(b) != "a" {
		t.Errorf("a.png holds %q (%v)", b, err)
	}
	// What a kill during a staged move leaves.
	staging, err := ensureWorkSubDir(dir, stagingDirName)
	if err != nil {
		t.Fatal(err)
	}
	write(t, staging, "move-123")
	s.RemoveStaleTemps(nil)
	if left, _ := filepath.Glob(filepath.Join(dir, WorkDirName, stagingDirName, "*")); len(left) != 0 {
		t.Errorf("RemoveStaleTemps left %v", left)
	}
}

// The Store is the one owner of path uniqueness: a commit at a path that
// another address records (exactly or case-folded) deletes that entry
// first, so that the lockfile on disk never holds two entries at one path
// (ParseLock would refuse it).
func TestStoreCommitTakesOverARecordedPath(t *testing.T) {
	for name, path := range map[string]string{"same path": "img.png", "case-folded": "IMG.PNG"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			lock := NewLock()
			old := entryN(1)
			old.Path = "img.png"
			lock.Images[addrs.MustParse("image.old")] = old
			if err := os.WriteFile(filepath.Join(dir, LockFileName), lock.Marshal(), 0o644); err != nil {
				t.Fatal(err)
			}
			s := OpenStore(dir, lock, nil)
			f, err := s.CreateTemp(path)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString("image")
			e := entryN(2)
			e.Path = path
			if err := s.Commit(context.Background(), Commit{Addr: addrs.MustParse("image.new"), Entry: e, Temp: f}); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			got, err := ReadLock(filepath.Join(dir, LockFileName))
			if err != nil {
				t.Fatalf("lockfile after the commit: %v", err)
			}
			if len(got.Images) != 1 || got.Images[addrs.MustParse("image.new")].Path != path {
				t.Fatalf("lockfile holds %v, want only image.new at %q", got.Images, path)
			}
		})
	}
}

// Putting a missing file back with the bytes its entry records (a restore
// into a fresh clone) places the file and writes no lockfile: the entry
// on disk already says exactly that.
func TestStoreCommitOfTheRecordedEntryWritesNoLockfile(t *testing.T) {
	dir := t.TempDir()
	lock := NewLock()
	e := entryN(1)
	e.Path = "img.png"
	lock.Images[addrs.MustParse("image.a")] = e
	writes := 0
	r := newRecorder(filepath.Join(dir, LockFileName), lock, func(path string, data []byte) error {
		writes++
		return WriteFileAtomic(path, data)
	})
	s := NewStore(dir, lock, r, nil)
	commit := func(e Entry) {
		t.Helper()
		f, err := s.CreateTemp(e.Path)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("image")
		if err := s.Commit(context.Background(), Commit{Addr: addrs.MustParse("image.a"), Entry: e, Temp: f}); err != nil {
			t.Fatal(err)
		}
	}
	commit(e)
	if _, err := os.Stat(filepath.Join(dir, "img.png")); err != nil {
		t.Fatalf("the file was not placed: %v", err)
	}
	if writes != 0 {
		t.Errorf("%d lockfile writes for an entry that did not change, want 0", writes)
	}
	changed := e
	changed.Inputs.Prompt = "another prompt"
	commit(changed)
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if writes == 0 {
		t.Error("no lockfile write for a changed entry")
	}
	got, err := ReadLock(filepath.Join(dir, LockFileName))
	if err != nil {
		t.Fatal(err)
	}
	if got.Images[addrs.MustParse("image.a")].Inputs.Prompt != "another prompt" {
		t.Errorf("lockfile holds %+v", got.Images)
	}
}

// countingJournal is a Journal that counts its writes.
type countingJournal struct {
	Journal
	mu     sync.Mutex
	writes int
}

func (j *countingJournal) Record(ctx context.Context, deletes []addrs.Addr, sets map[addrs.Addr]Entry) error {
	j.mu.Lock()
	j.writes++
	j.mu.Unlock()
	return j.Journal.Record(ctx, deletes, sets)
}

// TestStoreMovesRecordedTogether: moves to paths no entry records are
// recorded in one lockfile write, not one each (address moves and a path
// move alike), their old files removed after it. Moves that free a path
// for another (cycles) are the crash test's.
func TestStoreMovesRecordedTogether(t *testing.T) {
	dir := t.TempDir()
	lock := NewLock()
	var moves []Move
	want := map[string]string{} // address → path, after the moves
	for i := range 5 {
		e := entryN(i)
		e.Path = fmt.Sprintf("old/%d.png", i)
		content := fmt.Sprintf("image %d", i)
		e.SHA256 = sumOf(content)
		if err := os.MkdirAll(filepath.Join(dir, "old"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(e.Path)), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		from := addrs.MustParse(fmt.Sprintf("image.a[%d]", i))
		lock.Images[from] = e
		to := addrs.MustParse(fmt.Sprintf("image.b[%d]", i))
		p := fmt.Sprintf("new/%d.png", i)
		if i == 4 {
			// A path move, keeping its address.
			to = from
		}
		moves = append(moves, Move{From: Prior{Addr: from, Entry: e}, To: to, Path: p})
		want[to.String()] = p
	}
	if err := os.WriteFile(filepath.Join(dir, LockFileName), lock.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	j := &countingJournal{Journal: NewRecorder(filepath.Join(dir, LockFileName), lock)}
	s := NewStore(dir, lock, j, nil)
	ctx := context.Background()
	if err := s.Begin(ctx, []string{"new/0.png", "new/1.png", "new/2.png", "new/3.png", "new/4.png"}, nil); err != nil {
		t.Fatal(err)
	}
	s.Move(ctx, moves, func(i int, err error, skipped bool) {
		if err != nil || skipped {
			t.Errorf("move %d: %v (skipped %v)", i, err, skipped)
		}
	})
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if j.writes != 1 {
		t.Errorf("%d lockfile writes for 5 moves to new paths, want 1", j.writes)
	}
	got, err := ReadLock(filepath.Join(dir, LockFileName))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Images) != len(want) {
		t.Errorf("lockfile holds %d entries, want %d", len(got.Images), len(want))
	}
	for a, e := range got.Images {
		if want[a.String()] != e.Path {
			t.Errorf("%s at %s, want %s", a, e.Path, want[a.String()])
		}
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(e.Path)))
		if err != nil || sumOf(string(b)) != e.SHA256 {
			t.Errorf("%s: file %s: %v, hash matches %v", a, e.Path, err, err == nil && sumOf(string(b)) == e.SHA256)
		}
	}
	for i := range 5 {
		if _, err := os.Stat(filepath.Join(dir, "old", fmt.Sprintf("%d.png", i))); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("old/%d.png still there: %v", i, err)
		}
	}
}
