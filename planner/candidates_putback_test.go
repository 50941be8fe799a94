package planner

import (
	"strings"
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

// A candidates image whose file alone is missing is put back from the
// image store by each take's recorded sha256, as a single image is: the
// store's record of a take's inputs names the first render anyone
// pushed, an equally valid one, and is not asked. The local cache's
// render of a take's inputs still counts: other bytes there name the
// entry as mixed. A take whose bytes the store lacks is said so.
func TestDiffCandidatesPutBackFromStore(t *testing.T) {
	four, recorded := lighthouseFour()
	seeds := four.TakeSeeds()
	// others records take i's inputs as "o<i+1>", another render.
	others := map[string]string{}
	for i, s := range seeds {
		others[four.Take(s).Digest()] = "o" + string(rune('1'+i))
	}
	all := map[string]bool{"s1": true, "s2": true, "s3": true, "s4": true, "o1": true, "o2": true, "o3": true, "o4": true}
	tests := map[string]struct {
		lock      state.Entry
		cached    map[int]string // take index → the local cache's sha256
		stored    map[string]string
		inStore   map[string]bool
		fromStore bool
		storeSum  string
		putBack   bool
		reason    string // a part of a reason
		noReason  string // no reason holds it
		asked     bool   // the store's records are asked
	}{
		"the store records other renders and holds the entry's takes": {
			lock: recorded(), stored: others, inStore: all,
			fromStore: true, storeSum: "s1", putBack: true, noReason: divergedRender,
		},
		"the store holds the entry's takes and records none": {
			lock: recorded(), stored: map[string]string{}, inStore: all,
			fromStore: true, storeSum: "s1", putBack: true,
		},
		"a picked take": {
			lock: picked(recorded(), 3), stored: others, inStore: all,
			fromStore: true, storeSum: "s3", putBack: true, noReason: divergedRender,
		},
		"the local cache holds another render of take 2": {
			lock: recorded(), cached: map[int]string{1: "c2"}, stored: others, inStore: all,
			fromStore: true, storeSum: "s1", reason: "the local cache " + divergedRender + " take 2's inputs (sha256 c2)",
		},
		"the local cache holds take 2's recorded bytes": {
			lock: recorded(), cached: map[int]string{1: "s2"}, stored: others, inStore: all,
			fromStore: true, storeSum: "s1", putBack: true, noReason: divergedRender,
		},
		"the store lacks take 3's bytes and records another render": {
			lock: recorded(), stored: others, inStore: map[string]bool{"s1": true, "s2": true, "s4": true, "o3": true},
			fromStore: true, storeSum: "s1", asked: true, reason: storeLacksRecorded + " of take 3 (sha256 s3), and holds another render of its inputs (sha256 o3)", noReason: divergedRender,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			lock := state.NewLock()
			lock.Images[addrs.MustParse("image.hero")] = tc.lock
			hero := img(t, "image.hero", "a lighthouse", 42, "hero.png")
			hero.Candidates = 4
			cachedSum := func(d string) (string, bool) {
				for i, s := range tc.cached {
					if d == four.Take(seeds[i]).Digest() {
						return s, true
					}
				}
				return "", false
			}
			asked := false
			in := Input{Images: []config.Image{hero}, Lock: lock, Provider: providers.Imagine,
				Cached:       func(d, _ string) bool { _, ok := cachedSum(d); return ok },
				CachedSHA256: func(d, _ string) (string, bool) { return cachedSum(d) },
				Stored: func(d, _ string) (string, bool) {
					asked = true
					s, ok := tc.stored[d]
					return s, ok
				},
				InStore: func(s string) bool { return tc.inStore[s] },
				NewSeed: func() int64 { return 42 }}
			p, diags := Diff(in)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			c := p.Changes[0]
			reasons := strings.Join(c.Reasons, "\n")
			if c.Action != Replace || c.Requests != 0 || c.FromStore != tc.fromStore || c.StoreSHA256 != tc.storeSum || c.PutBack != tc.putBack {
				t.Fatalf("got %v, %d requests, from store %v (%q), put back %v; reasons %q", c.Action, c.Requests, c.FromStore, c.StoreSHA256, c.PutBack, c.Reasons)
			}
			if tc.reason != "" && !strings.Contains(reasons, tc.reason) {
				t.Errorf("reasons %q lack %q", c.Reasons, tc.reason)
			}
			if tc.noReason != "" && strings.Contains(reasons, tc.noReason) {
				t.Errorf("reasons %q hold %q", c.Reasons, tc.noReason)
			}
			if asked != tc.asked {
				t.Errorf("the store's records asked: %v, want %v", asked, tc.asked)
			}
		})
	}
}
