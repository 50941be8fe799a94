package executor

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

// stopAfterDelete is a state.Recorder whose Delete removes the entry and
// then reports failure, as a run stopped (or killed) right after an
// entry's removal would: the file has not been removed yet.
type stopAfterDelete struct{ *state.Recorder }

func (s stopAfterDelete) Record(ctx context.Context, deletes []addrs.Addr, sets map[addrs.Addr]state.Entry) error {
	if err := s.Recorder.Record(ctx, deletes, sets); err != nil || len(sets) > 0 {
		return err
	}
	return errors.New("stopped after the entry's removal")
}

func TestApplyLeavesNoOrphanAfterAnEntryIsRemoved(t *testing.T) {
	e := newEnv(t)
	g := e.had(t, "gone", "g.png", 4)
	lockPath := filepath.Join(e.dir, state.LockFileName)
	lock := state.NewLock()
	for a, en := range e.prior {
		lock.Images[addrs.MustParse(a)] = en
	}
	rec := state.NewRecorder(lockPath, lock)
	plan := &planner.Plan{Provider: providers.Imagine, Changes: []planner.Change{
		{Addr: addr("gone"), Action: planner.Delete, Path: "g.png", Prior: g, PriorAddr: addrs.MustParse("image.gone")},
	}}
	_, err := Apply(context.Background(), plan, Options{
		Dir: e.dir, Store: state.NewStore(e.dir, lock, stopAfterDelete{rec}, nil), Limiter: newTestLimiter(1), Parallelism: 1, Clock: newFakeClock(),
	})
	if cerr := rec.Close(); cerr != nil {
		t.Fatal(cerr)
	}
	if err == nil {
		t.Fatal("Apply succeeded")
	}
	got, err := state.ReadLock(lockPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got.Images[addrs.MustParse("image.gone")]; ok {
		t.Fatal("the entry is still recorded")
	}
	if _, err := os.Stat(filepath.Join(e.dir, "g.png")); !os.IsNotExist(err) {
		t.Errorf("g.png is an orphan: its entry is gone and the file stays (%v)", err)
	}
	if _, err := os.Stat(filepath.Join(e.dir, state.WorkDirName, "removals.json")); !os.IsNotExist(err) {
		t.Errorf("the removal note is left: %v", err)
	}
}

func TestApplyFinishesLeftRemovals(t *testing.T) {
	e := newEnv(t)
	g := e.had(t, "gone", "g.png", 4)
	k := e.had(t, "kept", "k.png", 5)
	// An earlier apply noted both and was killed after removing gone's
	// entry; kept's entry is still recorded.
	if err := state.IntendRemovals(e.dir, []state.Removal{{Path: g.Path, SHA256: g.SHA256}, {Path: k.Path, SHA256: k.SHA256}}); err != nil {
		t.Fatal(err)
	}
	lock := state.NewLock()
	lock.Images[addrs.MustParse("image.kept")] = *k
	rec := state.NewRecorder(filepath.Join(e.dir, state.LockFileName), lock)
	_, err := Apply(context.Background(), &planner.Plan{Provider: providers.Imagine}, Options{
		Dir: e.dir, Store: state.NewStore(e.dir, lock, rec, nil), Limiter: newTestLimiter(1), Parallelism: 1, Clock: newFakeClock(),
	})
	if cerr := rec.Close(); cerr != nil {
		t.Fatal(cerr)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "g.png")); !os.IsNotExist(err) {
		t.Errorf("g.png left: %v", err)
	}
	if fileSum(t, e.dir, "k.png") != k.SHA256 {
		t.Error("k.png, still recorded, was touched")
	}
}

// A move to a path that differs in case only: on a case-sensitive file
// system (this test's) the old file is another file and goes; where case
// folds, keeps sees one file and leaves it (sameFile).
func TestApplyMoveInCaseOnly(t *testing.T) {
	e := newEnv(t)
	x := e.had(t, "x", "hero.png", 1)
	lockPath := filepath.Join(e.dir, state.LockFileName)
	lock := state.NewLock()
	lock.Images[addrs.MustParse("image.x")] = *x
	rec := state.NewRecorder(lockPath, lock)
	plan := &planner.Plan{Provider: providers.Imagine, Changes: []planner.Change{
		withPrior(create("x", "Hero.png", 1), planner.Move, x, "image.x"),
	}}
	_, err := Apply(context.Background(), plan, Options{
		Dir: e.dir, Store: state.NewStore(e.dir, lock, rec, nil), Limiter: newTestLimiter(1), Parallelism: 1, Clock: newFakeClock(),
	})
	if cerr := rec.Close(); cerr != nil {
		t.Fatal(cerr)
	}
	if err != nil {
		t.Fatal(err)
	}
	got, err := state.ReadLock(lockPath)
	if err != nil {
		t.Fatal(err)
	}
	if en := got.Images[addrs.MustParse("image.x")]; en.Path != "Hero.png" || fileSum(t, e.dir, "Hero.png") != en.SHA256 {
		t.Fatalf("entry %+v", en)
	}
	same := func() bool {
		a, err1 := os.Stat(filepath.Join(e.dir, "hero.png"))
		b, err2 := os.Stat(filepath.Join(e.dir, "Hero.png"))
		return err1 == nil && err2 == nil && os.SameFile(a, b)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "hero.png")); err == nil && !same() {
		t.Error("hero.png, another file here, was left behind")
	}
}
