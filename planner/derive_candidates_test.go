package planner

import (
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

// TestDiffDerivedOfCandidates: an image made from a candidates image
// whose takes are all restored without a request (from the local cache or
// the image store) takes the hash of the take that apply places at the
// source's path (the entry's pick, else the pick the cache remembers,
// else the first take), so that the plan restores it too when the cache
// or the store holds its render: no request, where it was rendered again.
// A source with a take to render leaves its hash to apply, as before.
func TestDiffDerivedOfCandidates(t *testing.T) {
	three := state.Inputs{Prompt: "a lighthouse", Style: "flux-dev", AspectRatio: "1:1", Seed: 42, Candidates: 3}
	seeds := three.TakeSeeds()
	take := func(i int) string { return three.Take(seeds[i]).Digest() } // take i, from 0
	sum := func(i int) string { return "t" + string(rune('1'+i)) }      // its bytes' hash
	small := func(src string) state.Inputs {
		return state.Inputs{Source: "image.hero", SourceSHA256: src, Resize: "640x0"}
	}
	recorded := func(pick int) state.Entry {
		e := entry("a lighthouse", 42, "hero.png", providers.Imagine, sum(0))
		e.Inputs.Candidates = 3
		for i, s := range seeds {
			e.Takes = append(e.Takes, state.Take{Seed: s, SHA256: sum(i), Bytes: 10})
		}
		if pick > 0 {
			e = picked(e, pick)
		}
		return e
	}
	smallEntry := func(src string) state.Entry {
		e := derivedEntry("image.hero", "", src, "small.png", "sm")
		e.Inputs.Resize = "640x0"
		return e
	}
	type swant struct {
		action    Action
		fromCache bool
		store     string
		req       int
		source    string // "" when known after apply
	}
	tests := map[string]struct {
		lock      map[string]state.Entry
		cached    map[string]string // digest → sha256, in the local cache
		stored    map[string]string // digest → sha256, in the store
		hero, sml swant
	}{
		"every take and the derived render in the cache": {
			cached: map[string]string{take(0): sum(0), take(1): sum(1), take(2): sum(2), small(sum(0)).Digest(): "sm"},
			hero:   swant{action: Create, fromCache: true},
			sml:    swant{action: Create, fromCache: true, source: sum(0)},
		},
		"every take and the derived render in the store": {
			stored: map[string]string{take(0): sum(0), take(1): sum(1), take(2): sum(2), small(sum(0)).Digest(): "sm"},
			hero:   swant{action: Create, store: sum(0)},
			sml:    swant{action: Create, store: "sm", source: sum(0)},
		},
		"a clone of a picked take": {
			lock:   map[string]state.Entry{"image.hero": recorded(2), "image.small": smallEntry(sum(1))},
			stored: map[string]string{take(0): sum(0), take(1): sum(1), take(2): sum(2), small(sum(1)).Digest(): "sm"},
			hero:   swant{action: Replace, store: sum(1)},
			sml:    swant{action: Replace, store: "sm", source: sum(1)},
		},
		"the cache remembers a pick": {
			cached: map[string]string{take(0): sum(0), take(1): sum(1), take(2): sum(2),
				three.PickKey(): sum(2), small(sum(2)).Digest(): "sm"},
			hero: swant{action: Create, fromCache: true},
			sml:  swant{action: Create, fromCache: true, source: sum(2)},
		},
		"takes from the cache and the store": {
			cached: map[string]string{take(0): sum(0)},
			stored: map[string]string{take(1): sum(1), take(2): sum(2), small(sum(0)).Digest(): "sm"},
			hero:   swant{action: Create, store: sum(1)},
			sml:    swant{action: Create, store: "sm", source: sum(0)},
		},
		"a take to render": {
			stored: map[string]string{take(0): sum(0), take(1): sum(1), small(sum(0)).Digest(): "sm"},
			hero:   swant{action: Create, req: 1},
			sml:    swant{action: Create},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			lock := state.NewLock()
			for k, e := range tc.lock {
				lock.Images[addrs.MustParse(k)] = e
			}
			hero := img(t, "image.hero", "a lighthouse", 42, "hero.png")
			hero.Candidates = 3
			sm := derived(t, "image.small", "image.hero", "", "small.png")
			sm.Resize = config.Resize{Width: 640}
			in := Input{Images: []config.Image{hero, sm}, Lock: lock, Facts: map[string]FileFact{}, Provider: providers.Imagine,
				Cached:       func(d, _ string) bool { _, ok := tc.cached[d]; return ok },
				CachedSHA256: func(d, _ string) (string, bool) { s, ok := tc.cached[d]; return s, ok },
				Stored:       func(d, _ string) (string, bool) { s, ok := tc.stored[d]; return s, ok },
				InStore:      func(string) bool { return true },
				NewSeed:      func() int64 { return 42 }}
			plan, diags := Diff(in)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			for i, w := range []swant{tc.hero, tc.sml} {
				c := plan.Changes[i]
				if c.Action != w.action || c.FromCache != w.fromCache || c.StoreSHA256 != w.store || c.FromStore != (w.store != "") || c.Requests != w.req {
					t.Errorf("%s: %s cache %v store %v %q req %d (reasons %q), want %+v", c.Addr, c.Action, c.FromCache, c.FromStore, c.StoreSHA256, c.Requests, c.Reasons, w)
				}
				if i == 1 && (c.Inputs.SourceSHA256 != w.source || (c.AfterApply == "") != (w.source != "")) {
					t.Errorf("%s: source %q after apply %q, want source %q", c.Addr, c.Inputs.SourceSHA256, c.AfterApply, w.source)
				}
			}
		})
	}
}
