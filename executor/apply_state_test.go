package executor

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

// The real state.Recorder and state.Cache satisfy the executor's
// interfaces, and an apply through them leaves a lockfile that parses and
// matches the disk.
var (
	_ state.Journal = (*state.Recorder)(nil)
	_ Cache         = (*state.Cache)(nil)
)

func TestApplyWithRealState(t *testing.T) {
	tests := map[string]struct {
		build func(t *testing.T, e *env) []planner.Change
		want  map[string]string // address → path
	}{
		"swap, address move in place, create, delete": {
			build: func(t *testing.T, e *env) []planner.Change {
				x := e.had(t, "x", "a.png", 1)
				y := e.had(t, "y", "b.png", 2)
				o := e.had(t, "old", "o.png", 3)
				g := e.had(t, "gone", "g.png", 4)
				return []planner.Change{
					withPrior(create("x", "b.png", 1), planner.Move, x, "image.x"),
					withPrior(create("y", "a.png", 2), planner.Move, y, "image.y"),
					withPrior(create("new", "o.png", 3), planner.Move, o, "image.old"),
					create("fresh", "g.png", 9),
					{Addr: addr("gone"), Action: planner.Delete, Path: "g.png", Prior: g, PriorAddr: addrs.MustParse("image.gone")},
				}
			},
			want: map[string]string{"image.x": "b.png", "image.y": "a.png", "image.new": "o.png", "image.fresh": "g.png"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			changes := tc.build(t, e)
			lockPath := filepath.Join(e.dir, state.LockFileName)
			lock := state.NewLock()
			for a, en := range e.prior {
				lock.Images[addrs.MustParse(a)] = en
			}
			rec := state.NewRecorder(lockPath, lock)
			res, err := Apply(context.Background(), &planner.Plan{Provider: providers.Imagine, Changes: changes}, Options{
				Dir: e.dir, Provider: &fakeProvider{render: renderPNG(t)}, Store: state.NewStore(e.dir, lock, rec, state.OpenCache(e.dir)), Cache: state.OpenCache(e.dir),
				Limiter: newTestLimiter(2), Parallelism: 2, Clock: newFakeClock(),
			})
			if cerr := rec.Close(); cerr != nil {
				t.Fatal(cerr)
			}
			if err != nil {
				t.Fatalf("Apply: %v (%+v)", err, countsOf(res))
			}
			got, err := state.ReadLock(lockPath)
			if err != nil {
				t.Fatalf("lockfile after apply: %v", err)
			}
			if len(got.Images) != len(tc.want) {
				t.Errorf("lockfile has %d entries, want %d: %v", len(got.Images), len(tc.want), got.Images)
			}
			for a, p := range tc.want {
				en, ok := got.Images[addrs.MustParse(a)]
				if !ok || en.Path != p || fileSum(t, e.dir, p) != en.SHA256 {
					t.Errorf("%s: entry %+v (present %v), want path %s with the file's hash", a, en, ok, p)
				}
			}
			noTempFiles(t, e.dir)
		})
	}
}

// A lockfile that can no longer be written stops the run with a
// *state.RecordError that states the facts once: which change was not
// recorded, where and why. What to do is the views' to say.
func TestApplyLockfileWriteFails(t *testing.T) {
	e := newEnv(t)
	lockPath := filepath.Join(e.dir, state.LockFileName)
	// A non-empty directory where the lockfile goes: no rename replaces it.
	if err := os.MkdirAll(filepath.Join(lockPath, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	rec := state.NewRecorder(lockPath, state.NewLock())
	changes := []planner.Change{create("a", "a.png", 1), create("b", "b.png", 2)}
	res, err := Apply(context.Background(), &planner.Plan{Provider: providers.Imagine, Changes: changes}, Options{
		Dir: e.dir, Provider: &fakeProvider{render: renderPNG(t)}, Store: state.NewStore(e.dir, state.NewLock(), rec, nil),
		Limiter: newTestLimiter(1), Parallelism: 1, Clock: newFakeClock(),
	})
	if cerr := rec.Close(); cerr == nil {
		t.Error("Recorder.Close: nil, want the sticky write error")
	}
	var re *state.RecordError
	if !errors.As(err, &re) {
		t.Fatalf("Apply: %v, want a *state.RecordError", err)
	}
	if res.Generated != 0 || res.Failed+res.Skipped != 2 {
		t.Errorf("counts %+v, want nothing done and 2 failed or not started", countsOf(res))
	}
	// Which image's write fails first is the scheduler's choice.
	msg := err.Error()
	want := `^record the entry of image\.[ab]: write lockfile ` + regexp.QuoteMeta(lockPath) + `: rename: `
	if !regexp.MustCompile(want).MatchString(msg) {
		t.Errorf("error %q does not match %s", msg, want)
	}
	if n := strings.Count(msg, state.LockFileName); n != 1 {
		t.Errorf("error names the lockfile %d times, want once: %q", n, msg)
	}
	for _, advice := range []string{"run apply", "fix the problem", "recorded;", "is recorded"} {
		if strings.Contains(msg, advice) {
			t.Errorf("error %q gives advice or a verdict (%q): that is the views' hint", msg, advice)
		}
	}
}

// A lockfile that cannot be written at all stops the run before its first
// request: the renders would be paid for and left unrecorded. (Here its
// directory cannot be made: a file stands where it goes. A directory the
// user may not write to fails the same way, but not for root, who runs
// the tests in CI.)
func TestApplyLockfileUnwritableSendsNothing(t *testing.T) {
	e := newEnv(t)
	if err := os.WriteFile(filepath.Join(e.dir, "sub"), []byte("a file"), 0o644); err != nil {
		t.Fatal(err)
	}
	lockPath := filepath.Join(e.dir, "sub", state.LockFileName)
	rec := state.NewRecorder(lockPath, state.NewLock())
	prov := &fakeProvider{render: renderPNG(t)}
	changes := []planner.Change{create("a", "a.png", 1), create("b", "b.png", 2)}
	res, err := Apply(context.Background(), &planner.Plan{Provider: providers.Imagine, Changes: changes}, Options{
		Dir: e.dir, Provider: prov, Store: state.NewStore(e.dir, state.NewLock(), rec, nil),
		Limiter: newTestLimiter(1), Parallelism: 1, Clock: newFakeClock(),
	})
	rec.Close()
	var ul *state.UnwritableLockError
	if !errors.As(err, &ul) || ul.Path != lockPath || !strings.Contains(err.Error(), "the lockfile "+lockPath+" cannot be written (") || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("Apply: %v, want the lockfile's refusal and nothing changed", err)
	}
	prov.mu.Lock()
	defer prov.mu.Unlock()
	if len(prov.calls) != 0 || res.Generated != 0 {
		t.Errorf("requests %v, generated %d: want none before the lockfile can be written", prov.calls, res.Generated)
	}
	for _, name := range []string{"a.png", "b.png"} {
		if _, err := os.Lstat(filepath.Join(e.dir, name)); err == nil {
			t.Errorf("%s was written", name)
		}
	}
}
