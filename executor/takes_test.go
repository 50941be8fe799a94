package executor

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/state"
)

// A candidates image renders each take, keeps it in the content cache as
// it arrives, and records every take with the first at its path; a take
// that fails fails the image and records nothing, but the takes that
// arrived cost no request the next time; a forced render asks for every
// take again; a pick places a take from the cache.
func TestApplyCandidates(t *testing.T) {
	dir := t.TempDir()
	cache := state.OpenCache(dir)
	in := inputs("hero", 7)
	in.Candidates = 3
	seeds := in.TakeSeeds()
	change := func(requests int) planner.Change {
		return planner.Change{Addr: addr("hero"), Action: planner.Create, Inputs: in, Path: "hero.png", Requests: requests, Credits: 15 * requests, CreditsKnown: true}
	}
	failSeed := seeds[1]
	prov := &fakeProvider{render: func(ctx context.Context, req Request, w io.Writer) error {
		if req.Seed == failSeed {
			return &Error{Class: Invalid, Msg: "refused"}
		}
		_, err := w.Write(pngOf(t, 8, 6, req.Seed))
		return err
	}}
	apply := func(c planner.Change, prior map[string]state.Entry) (*Result, map[string]state.Entry) {
		rec := newFakeRecorder(t, dir, prior)
		res, _ := Apply(context.Background(), &planner.Plan{Provider: "imagine", Changes: []planner.Change{c}}, Options{
			Dir: dir, Provider: prov, Store: rec.store(cache), Cache: cache, Limiter: newTestLimiter(2), Clock: newFakeClock(), Parallelism: 2,
		})
		return res, rec.snapshot()
	}

	// Take 2 is refused: the image fails and nothing is recorded, but
	// takes 1 and 3 are in the cache.
	res, lock := apply(change(3), nil)
	if res.Failed != 1 || res.Requests != 3 || len(lock) != 0 {
		t.Fatalf("first run: %+v, lock %v", countsOf(res), lock)
	}
	for i, want := range []bool{true, false, true} {
		if got := cache.Has(in.Take(seeds[i]).Digest(), "imagine"); got != want {
			t.Errorf("take %d in the cache: %v, want %v", i+1, got, want)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".pixform-tmp-*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}

	// The next run asks for the missing take only.
	failSeed = 0
	res, lock = apply(change(1), nil)
	if res.Generated != 1 || res.Requests != 1 || res.Credits != 15 {
		t.Fatalf("second run: %+v", countsOf(res))
	}
	e := lock["image.hero"]
	if len(e.Takes) != 3 || e.Picked != 0 || e.SHA256 != e.Takes[0].SHA256 || e.Inputs != in {
		t.Fatalf("entry %+v", e)
	}
	for i, tk := range e.Takes {
		info, ok := cache.Info(in.Take(tk.Seed).Digest(), "imagine")
		if tk.Seed != seeds[i] || !ok || info.SHA256 != tk.SHA256 {
			t.Errorf("take %d: seed %d, cached %v", i+1, tk.Seed, ok)
		}
	}

	// A forced render (-replace: every take priced, Forced) asks for
	// every take again.
	pc := change(3)
	pc.Action, pc.Prior, pc.PriorAddr, pc.Forced = planner.Replace, &e, addr("hero"), true
	res, _ = apply(pc, lock)
	if res.Requests != 3 {
		t.Fatalf("forced run: %d requests, want 3", res.Requests)
	}

	// Pick take 3 from the cache: no request, the file is the take.
	rec := newFakeRecorder(t, dir, lock)
	ne, err := Pick(context.Background(), PickOptions{Dir: dir, Store: rec.store(cache), Cache: cache, Addr: addr("hero"), Entry: e, Take: 3})
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.snapshot()["image.hero"]; got.Picked != 3 || got.SHA256 != e.Takes[2].SHA256 || ne.Picked != 3 {
		t.Fatalf("after the pick: %+v", got)
	}
	if fileSum(t, dir, "hero.png") != e.Takes[2].SHA256 {
		t.Fatal("the file is not take 3")
	}
	// A take the cache lost (the cache removed: the takes are records
	// of a pack) cannot be picked; nothing changes.
	if err := os.RemoveAll(filepath.Join(dir, ".pixform", "cache")); err != nil {
		t.Fatal(err)
	}
	_, err = Pick(context.Background(), PickOptions{Dir: dir, Store: newFakeRecorder(t, dir, rec.snapshot()).store(state.OpenCache(dir)), Cache: state.OpenCache(dir), Addr: addr("hero"), Entry: rec.snapshot()["image.hero"], Take: 2})
	if err == nil || !strings.Contains(err.Error(), "not in the local content cache") {
		t.Fatalf("pick of a lost take: %v", err)
	}
	if fileSum(t, dir, "hero.png") != e.Takes[2].SHA256 {
		t.Fatal("a failed pick changed the file")
	}
}

// A plan that counts fewer take requests than the takes the cache lacks
// (an edited plan file) is refused before any request: apply never sends
// more than the plan says it spends.
func TestApplyCandidatesRequestsCapped(t *testing.T) {
	dir := t.TempDir()
	cache := state.OpenCache(dir)
	in := inputs("hero", 7)
	in.Candidates = 4
	calls := 0
	prov := &fakeProvider{render: func(ctx context.Context, req Request, w io.Writer) error {
		calls++
		_, err := w.Write(pngOf(t, 8, 6, req.Seed))
		return err
	}}
	for _, requests := range []int{0, 1, 3} {
		c := planner.Change{Addr: addr("hero"), Action: planner.Create, Inputs: in, Path: "hero.png", Requests: requests, Credits: 15 * requests, CreditsKnown: true}
		rec := newFakeRecorder(t, dir, nil)
		res, _ := Apply(context.Background(), &planner.Plan{Provider: "imagine", Changes: []planner.Change{c}}, Options{
			Dir: dir, Provider: prov, Store: rec.store(cache), Cache: cache, Limiter: newTestLimiter(2), Clock: newFakeClock(), Parallelism: 1,
		})
		if calls != 0 || res.Requests != 0 || res.Failed != 1 || len(rec.snapshot()) != 0 {
			t.Fatalf("requests %d: %d calls, %+v", requests, calls, countsOf(res))
		}
		if msg := res.Failures[0].Err.Error(); !strings.Contains(msg, "inconsistent") || !strings.Contains(msg, "4 takes") {
			t.Errorf("requests %d: error %q", requests, msg)
		}
	}
}

// storeCache is a fakeCache whose renders of the digests in stored come
// from the image store (as storesync.Cache serves them).
type storeCache struct {
	*fakeCache
	stored map[string]bool
}

func (c storeCache) FromStore(digest, provider string) bool { return c.stored[digest] }

// A take whose restore fails is requested instead only with a request the
// plan counted: a take the plan restores from the image store with no
// request fails the image, nothing requested, whatever Options.Unplanned
// would allow; one restored from the local content cache goes to
// Options.Unplanned as before; and a take that the plan counted a request
// for but that is restorable by apply (cached since) is requested when its
// restore fails, with no question.
func TestApplyTakeRestoreFails(t *testing.T) {
	tests := map[string]struct {
		requests  int  // the plan's count
		store     bool // the takes come from the image store
		refuse    bool // Options.Unplanned refuses
		want      counts
		wantErr   string
		wantWarns string
	}{
		"from the store, none counted: fails, nothing requested": {
			store: true, want: counts{Failed: 1},
			wantErr: "restore the take with seed",
		},
		"from the store, one counted: that one is requested, the other fails": {
			requests: 1, store: true, want: counts{Failed: 1, Requests: 1, Credits: 15},
			wantErr: "from the image store", wantWarns: "from the image store",
		},
		"from the store, both counted: both requested": {
			requests: 2, store: true, want: counts{Generated: 1, Requests: 2, Credits: 30},
			wantWarns: "from the image store",
		},
		"from the local cache, allowed: requested": {
			want: counts{Generated: 1, Requests: 2, Credits: 30}, wantWarns: "from the content cache",
		},
		"from the local cache, refused: fails": {
			refuse: true, want: counts{Failed: 1}, wantErr: "could not restore the take with seed",
		},
		"from the local cache, one counted: that one requested though Unplanned refuses": {
			requests: 1, refuse: true, want: counts{Failed: 1, Requests: 1, Credits: 15},
			wantErr: "so none was sent", wantWarns: "from the content cache",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			in := inputs("hero", 7)
			in.Candidates = 2
			seeds := in.TakeSeeds()
			b := pngOf(t, 8, 6, seeds[0])
			sc := storeCache{fakeCache: e.cache, stored: map[string]bool{}}
			e.cache.files = map[string][]byte{}
			for _, seed := range seeds {
				d := in.Take(seed).Digest()
				e.cache.files[d+"/imagine"] = b[:len(b)/2] // damaged
				sc.stored[d] = tc.store
			}
			c := planner.Change{Addr: addr("hero"), Action: planner.Create, Inputs: in, Path: "hero.png",
				Requests: tc.requests, Credits: 15 * tc.requests, CreditsKnown: tc.requests > 0}
			if tc.requests == 0 {
				c.FromCache, c.FromStore = !tc.store, tc.store
			}
			var warns []string
			e.hooks.onWarn = func(_ *planner.Change, msg string) { warns = append(warns, msg) }
			res, _ := e.apply(t, context.Background(), false, []planner.Change{c}, func(o *Options) {
				o.Cache = sc
				o.Parallelism = 1
				if tc.refuse {
					o.Unplanned = func(int, bool, int) string { return "a saved plan is applied as it was made" }
				}
			})
			if got := countsOf(res); got != tc.want {
				t.Fatalf("counts %+v, want %+v (failures %v)", got, tc.want, res.Failures)
			}
			if sent := e.prov.callsOf("image.hero"); sent != tc.want.Requests {
				t.Errorf("%d requests sent, %d counted", sent, tc.want.Requests)
			}
			if tc.wantErr != "" {
				msg := res.Failures[0].Err.Error()
				if !strings.Contains(msg, tc.wantErr) {
					t.Errorf("error %q lacks %q", msg, tc.wantErr)
				}
				if tc.store && (!strings.Contains(msg, "nothing was requested") || !strings.Contains(msg, "pixform apply -replace=image.hero") || strings.Contains(msg, "content cache")) {
					t.Errorf("error %q: want the image store, nothing requested, and what to do", msg)
				}
			}
			for _, w := range warns {
				if tc.wantWarns == "" || !strings.Contains(w, tc.wantWarns) {
					t.Errorf("warning %q, want one that says %q", w, tc.wantWarns)
				}
			}
		})
	}
}
