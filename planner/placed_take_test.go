package planner

import (
	"testing"

	"github.com/pixform/pixform/state"
)

// TestPlacedTake is the rule by which planning and apply both choose the
// take placed at a candidates image's path: the entry's pick when its
// takes are these, else the pick the cache remembers for these inputs,
// else the first.
func TestPlacedTake(t *testing.T) {
	three := state.Inputs{Prompt: "a lighthouse", Style: "flux-dev", AspectRatio: "1:1", Seed: 42, Candidates: 3}
	seeds := three.TakeSeeds()
	takes := func(s []int64) []state.Take {
		var ts []state.Take
		for _, x := range s {
			ts = append(ts, state.Take{Seed: x})
		}
		return ts
	}
	other := three
	other.Prompt = "a harbour"
	// cache holds a hash for each take's digest (hash "h<i>" for take i)
	// and remembers the pick of three as take 3's hash.
	cache := map[string]string{three.PickKey(): "h3"}
	for i, s := range seeds {
		cache[three.Take(s).Digest()] = "h" + string(rune('1'+i))
	}
	lookup := func(d string) (string, bool) { s, ok := cache[d]; return s, ok }
	for name, tt := range map[string]struct {
		prior  *state.Entry
		cached func(string) (string, bool)
		want   int
		picked bool
	}{
		"no entry, no cache: the first":         {want: 1},
		"no entry: the cache's pick":            {cached: lookup, want: 3, picked: true},
		"the entry's pick beats the cache's":    {prior: &state.Entry{Inputs: three, Picked: 2, Takes: takes(seeds)}, cached: lookup, want: 2, picked: true},
		"an entry without a pick: the cache's":  {prior: &state.Entry{Inputs: three, Takes: takes(seeds)}, cached: lookup, want: 3, picked: true},
		"an entry of other inputs: the cache's": {prior: &state.Entry{Inputs: other, Picked: 2, Takes: takes(seeds)}, cached: lookup, want: 3, picked: true},
		"an entry of other takes: the cache's":  {prior: &state.Entry{Inputs: three, Picked: 2, Takes: takes([]int64{seeds[0], seeds[2], seeds[1]})}, cached: lookup, want: 3, picked: true},
		"an entry of fewer takes, no cache":     {prior: &state.Entry{Inputs: three, Picked: 2, Takes: takes(seeds[:2])}, want: 1},
		"the cache's pick matches no take: first": {cached: func(d string) (string, bool) {
			if d == three.PickKey() {
				return "h9", true
			}
			return lookup(d)
		}, want: 1},
		"the cache has no pick: the first": {cached: func(d string) (string, bool) {
			if d == three.PickKey() {
				return "", false
			}
			return lookup(d)
		}, want: 1},
	} {
		t.Run(name, func(t *testing.T) {
			c := &Change{Inputs: three, Prior: tt.prior}
			at, picked := PlacedTake(c, seeds, tt.cached)
			if at != tt.want || picked != tt.picked {
				t.Errorf("PlacedTake = %d, %v; want %d, %v", at, picked, tt.want, tt.picked)
			}
		})
	}
}
