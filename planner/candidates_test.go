package planner

import (
	"strings"
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

func TestCandidatesLimitsAgree(t *testing.T) {
	if config.MaxCandidates != state.MaxCandidates {
		t.Fatalf("config allows %d candidates, the lockfile %d", config.MaxCandidates, state.MaxCandidates)
	}
}

func TestDiffCandidates(t *testing.T) {
	hero := func(t *testing.T, n int, seed int64) config.Image {
		i := img(t, "image.hero", "a lighthouse", seed, "hero.png")
		i.Candidates = n
		return i
	}
	four := state.Inputs{Prompt: "a lighthouse", Style: "flux-dev", AspectRatio: "1:1", Seed: 42, Candidates: 4}
	recorded := func() state.Entry {
		e := entry("a lighthouse", 42, "hero.png", providers.Imagine, "s1")
		e.Inputs.Candidates = 4
		for i, s := range four.TakeSeeds() {
			e.Takes = append(e.Takes, state.Take{Seed: s, SHA256: "s" + string(rune('1'+i)), Bytes: 10})
		}
		return e
	}
	cachedTakes := func(n int) map[string]bool {
		m := map[string]bool{}
		for _, s := range four.TakeSeeds()[:n] {
			m[four.Take(s).Digest()+"/imagine"] = true
		}
		return m
	}
	tests := map[string]struct {
		image    config.Image
		lock     *state.Entry
		cached   map[string]bool
		provider string
		replace  bool
		action   Action
		req      int
		credits  int
		reason   string
		cache    bool
	}{
		"create":               {image: hero(t, 4, 42), action: Create, req: 4, credits: 60, reason: "4 candidates of image.hero (4 requests, 60 credits)"},
		"one is no candidates": {image: hero(t, 1, 42), action: Create, req: 1, credits: 15},
		"partly cached":        {image: hero(t, 4, 42), cached: cachedTakes(3), action: Create, req: 1, credits: 15, reason: "4 candidates of image.hero (1 request, 15 credits; 3 from the local cache)"},
		"all cached":           {image: hero(t, 4, 42), cached: cachedTakes(4), action: Create, cache: true, reason: "every take restored from the local cache"},
		"forced":               {image: hero(t, 4, 42), lock: ptr(recorded()), cached: cachedTakes(4), replace: true, action: Replace, req: 4, credits: 60},
		"draft":                {image: hero(t, 4, 42), provider: providers.Draft, action: Create, reason: "4 candidates of image.hero (rendered offline)"},
		"unchanged":            {image: hero(t, 4, 0), lock: ptr(recorded()), action: NoOp},
		"more candidates":      {image: hero(t, 5, 0), lock: ptr(recorded()), action: Replace, req: 5, credits: 75, reason: "candidates changed: 4 → 5"},
		"picked single":        {image: hero(t, 0, 0), lock: ptr(picked(recorded(), 3)), cached: cachedTakes(3), action: Replace, cache: true, reason: "seed changed: 42 → "},
		"single from takes":    {image: hero(t, 0, 0), lock: ptr(recorded()), cached: cachedTakes(1), action: Replace, cache: true, reason: "candidates changed: 4 → 1"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			lock := state.NewLock()
			facts := map[string]FileFact{}
			if tc.lock != nil {
				lock.Images[addrs.MustParse("image.hero")] = *tc.lock
				facts["hero.png"] = FileFact{Exists: true, SHA256: tc.lock.SHA256}
			}
			provider := tc.provider
			if provider == "" {
				provider = providers.Imagine
			}
			in := Input{Images: []config.Image{tc.image}, Lock: lock, Facts: facts, Provider: provider,
				Cached: func(d, p string) bool { return tc.cached[d+"/"+p] }, NewSeed: func() int64 { return 42 }}
			if tc.replace {
				in.Replace = []addrs.Addr{addrs.MustParse("image.hero")}
			}
			p, diags := Diff(in)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			c := p.Changes[0]
			if c.Action != tc.action || c.Requests != tc.req || c.Credits != tc.credits || c.FromCache != tc.cache {
				t.Fatalf("got %v, %d requests, %d credits, from cache %v; reasons %q", c.Action, c.Requests, c.Credits, c.FromCache, c.Reasons)
			}
			if p.Summary.Requests != tc.req || p.Summary.Credits != tc.credits {
				t.Fatalf("summary %+v", p.Summary)
			}
			if tc.reason != "" && !strings.Contains(strings.Join(c.Reasons, "\n"), tc.reason) {
				t.Fatalf("reasons %q lack %q", c.Reasons, tc.reason)
			}
		})
	}
}

func picked(e state.Entry, n int) state.Entry {
	e.Picked = n
	e.SHA256 = e.Takes[n-1].SHA256
	return e
}

func ptr[T any](v T) *T { return &v }
