package executor

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/state"
)

// keepFails is a content cache that holds the takes but cannot keep
// anything more (a full disk): Pick cannot have it remember the pick.
type keepFails struct{ *state.Cache }

func (keepFails) Keep(string, string, *os.File, string, string) error {
	return errors.New("no space left on device")
}

// killedAfterCommit is a Store whose process is killed (kill -9) once the
// pick's commit returns: End never runs, so the placing note and the log
// stay as the commit left them.
type killedAfterCommit struct {
	state.Store
	begun bool
}

func (k *killedAfterCommit) Begin(ctx context.Context, writes []string, rs []state.Removal) error {
	k.begun = true
	return k.Store.Begin(ctx, writes, rs)
}

func (k *killedAfterCommit) End(context.Context) error { return nil }

// Session 16: a pick whose cache cannot remember it notes its path and
// logs the take before placing it, so that what a hard kill leaves at the
// path is known for that pick's leftover by the next plan, even once the
// content cache no longer holds the take (else it would be refused as a
// file of nobody's).
func TestPickKilledKnownLeftover(t *testing.T) {
	dir := t.TempDir()
	cache := state.OpenCache(dir)
	in := inputs("hero", 7)
	in.Candidates = 3
	prov := &fakeProvider{render: func(ctx context.Context, req Request, w io.Writer) error {
		_, err := w.Write(pngOf(t, 8, 6, req.Seed))
		return err
	}}
	rec := newFakeRecorder(t, dir, nil)
	c := planner.Change{Addr: addr("hero"), Action: planner.Create, Inputs: in, Path: "hero.png", Requests: 3, Credits: 45, CreditsKnown: true}
	res, err := Apply(context.Background(), &planner.Plan{Provider: "imagine", Changes: []planner.Change{c}}, Options{
		Dir: dir, Provider: prov, Store: rec.store(cache), Cache: cache, Limiter: newTestLimiter(2), Clock: newFakeClock(), Parallelism: 2,
	})
	if err != nil || res.Generated != 1 {
		t.Fatalf("apply: %v, %+v", err, countsOf(res))
	}
	e := rec.snapshot()["image.hero"]

	rec = newFakeRecorder(t, dir, rec.snapshot())
	st := &killedAfterCommit{Store: rec.store(cache)}
	if _, err := Pick(context.Background(), PickOptions{Dir: dir, Store: st, Cache: keepFails{cache}, Addr: addr("hero"), Entry: e, Take: 3}); err != nil {
		t.Fatal(err)
	}
	if !st.begun {
		t.Error("the pick did not ready the Store (Begin): its path is not noted")
	}
	// The kill came before the record: the lockfile has no entry, and
	// the cache lost the takes since.
	if err := os.RemoveAll(filepath.Join(dir, ".pixform", "cache")); err != nil {
		t.Fatal(err)
	}
	_, left, err := state.LeftBehind(dir, &state.Lock{Images: map[addrs.Addr]state.Entry{}})
	if err != nil {
		t.Fatal(err)
	}
	if !left.Holds("hero.png", e.Takes[2].SHA256) {
		t.Errorf("the take a killed pick placed at hero.png is not known for its leftover (noted %v)", left.Noted("hero.png"))
	}
}
