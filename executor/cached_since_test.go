package executor

import (
	"context"
	"testing"

	"github.com/pixform/pixform/planner"
)

// A render a saved plan (Recheck) requests whose inputs the content cache
// holds by apply (the plan applied again after a refused commit: the
// first apply kept the paid image there) is restored from the cache with
// no request, unless the plan forces it (-replace, -no-cache); a cached
// copy that is damaged leaves it to the request the plan counts. A plan
// this run made looked its renders up already: they are not looked up
// again.
func TestApplyCachedSince(t *testing.T) {
	tests := map[string]struct {
		forced     bool
		damaged    bool
		candidates bool
		fresh      bool // a plan this run made: no Recheck
		want       counts
	}{
		"cached since the plan: restored":        {want: counts{Restored: 1}},
		"forced: requested":                      {forced: true, want: counts{Generated: 1, Requests: 1, Credits: 15}},
		"damaged copy: requested as planned":     {damaged: true, want: counts{Generated: 1, Requests: 1, Credits: 15}},
		"takes cached since the plan: restored":  {candidates: true, want: counts{Restored: 1}},
		"a plan this run made: requested":        {fresh: true, want: counts{Generated: 1, Requests: 1, Credits: 15}},
		"a plan this run made, takes: requested": {fresh: true, candidates: true, want: counts{Generated: 1, Requests: 2, Credits: 30}},
		"forced takes: requested":                {candidates: true, forced: true, want: counts{Generated: 1, Requests: 2, Credits: 30}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			c := create("hero", "hero.png", 3)
			c.Forced = tc.forced
			e.cache.files = map[string][]byte{}
			if tc.candidates {
				c.Inputs.Candidates = 2
				c.Requests, c.Credits = 2, 30
				for _, seed := range c.Inputs.TakeSeeds() {
					e.cache.files[c.Inputs.Take(seed).Digest()+"/imagine"] = pngOf(t, 5, 5, seed)
				}
			} else {
				b := pngOf(t, 5, 5, 3)
				if tc.damaged {
					b = b[:len(b)/2]
				}
				e.cache.files[c.Inputs.Digest()+"/imagine"] = b
			}
			var asked int
			res, err := e.apply(t, context.Background(), false, []planner.Change{c}, func(o *Options) {
				o.Unplanned = func(int, bool, int) string { asked++; return "not planned" }
				o.Recheck = !tc.fresh
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := countsOf(res); got != tc.want {
				t.Errorf("counts %+v, want %+v (failures %v)", got, tc.want, res.Failures)
			}
			if sent := e.prov.callsOf("image.hero"); sent != tc.want.Requests {
				t.Errorf("%d requests sent, want %d", sent, tc.want.Requests)
			}
			if asked != 0 {
				t.Errorf("Unplanned asked %d times about a request the plan counts", asked)
			}
		})
	}
}
