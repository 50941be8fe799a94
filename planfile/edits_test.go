package planfile

import (
	"slices"
	"strings"
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/media"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

// TestCheckAgainstEdits: a saved plan edited so that a change no longer
// is what planning gives is refused, each edit alone: an address move
// turned into a create and a delete (a request where a move costs none),
// a kept seed changed on a replace, a -replace list that names an image
// the plan does not replace as -replace does, an action of another kind.
// The plan as made passes.
func TestCheckAgainstEdits(t *testing.T) {
	sum := func(c byte) string { return strings.Repeat(string(c), 64) }
	entry := func(prompt string, seed int64, path, sha string) state.Entry {
		return state.Entry{Inputs: state.Inputs{Prompt: prompt, Style: "flux-dev", AspectRatio: "16:9", Seed: seed},
			Provider: providers.Imagine, Path: path, SHA256: sha, Bytes: 10, MediaType: media.PNG, Width: 16, Height: 9}
	}
	hero, avatar, cat, old, pinned := addrs.Addr{Name: "hero"}, addrs.Addr{Name: "avatar"}, addrs.Addr{Name: "cat"}, addrs.Addr{Name: "old"}, addrs.Addr{Name: "pinned"}
	lock := &state.Lock{Images: map[addrs.Addr]state.Entry{
		hero:   entry("a fox", 42, "hero.png", sum('a')),
		avatar: entry("a robot", 7, "avatar.png", sum('b')),
		old:    entry("a cat", 5, "old.png", sum('d')),
		pinned: entry("a pin", 9, "pinned.png", sum('e')),
	}}
	facts := map[string]planner.FileFact{}
	for _, e := range lock.Images {
		facts[e.Path] = planner.FileFact{Exists: true, SHA256: e.SHA256, MediaType: e.MediaType}
	}
	imgs := []config.Image{
		{Addr: avatar, Prompt: "a robot", Style: "flux-dev", AspectRatio: "16:9", Path: "avatar.png"},
		{Addr: cat, Prompt: "a cat", Style: "flux-dev", AspectRatio: "16:9", Path: "old.png"},
		{Addr: hero, Prompt: "a wolf", Style: "flux-dev", AspectRatio: "16:9", Path: "hero.png"},
		{Addr: pinned, Prompt: "a pin", Style: "flux-dev", AspectRatio: "16:9", Seed: 9, Path: "pinned.png"},
	}
	cfg := &config.Config{Images: imgs}
	plan := func(replace ...addrs.Addr) *planner.Plan {
		p, diags := planner.Diff(planner.Input{Images: imgs, Lock: lock, Facts: facts, Provider: providers.Imagine,
			Replace: replace, NewSeed: func() int64 { return 1234 }})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		return p
	}
	at := func(p *planner.Plan, a addrs.Addr) *planner.Change {
		for i := range p.Changes {
			if p.Changes[i].Addr == a {
				return &p.Changes[i]
			}
		}
		t.Fatalf("no change of %s", a)
		return nil
	}
	clone := func(p *planner.Plan) *planner.Plan {
		q := *p
		q.Changes = slices.Clone(p.Changes)
		return &q
	}
	// As made, with and without -replace, it passes.
	base := plan()
	if got := actionsOf(base); got != "avatar:noop cat:move hero:replace pinned:noop" {
		t.Fatalf("planned %s", got)
	}
	for _, r := range [][]addrs.Addr{nil, {avatar}, {pinned}, {cat}} {
		if err := CheckAgainst(plan(r...), cfg, lock, r, factsDisk(facts)); err != nil {
			t.Fatalf("the plan as made with -replace=%v: %v", r, err)
		}
	}
	tests := []struct {
		name    string
		edit    func() (*planner.Plan, []addrs.Addr)
		refused string
	}{
		{"move turned into a create and a delete", func() (*planner.Plan, []addrs.Addr) {
			p := clone(base)
			c := at(p, cat)
			c.Action, c.Prior, c.PriorAddr, c.Reasons = planner.Create, nil, addrs.Addr{}, nil
			c.Requests, c.Credits, c.CreditsKnown = 1, 15, true
			c.Inputs.Seed = planner.DrawnSeed(c.Addr, c.Inputs) // as a create's
			e := lock.Images[old]
			p.Changes = append(p.Changes, planner.Change{Addr: old, Action: planner.Delete, Path: e.Path, Prior: &e, PriorAddr: old})
			return p, nil
		}, "image.cat is created, but the lockfile's entry image.old holds it"},
		// A reviewer's: the seed of a create whose configuration sets
		// none, edited, would make apply pay for another image than the
		// plan showed.
		{"a create's drawn seed edited", func() (*planner.Plan, []addrs.Addr) {
			p := clone(base)
			c := at(p, cat)
			c.Action, c.Prior, c.PriorAddr, c.Reasons = planner.Create, nil, addrs.Addr{}, nil
			c.Requests, c.Credits, c.CreditsKnown = 1, 15, true
			c.Inputs.Seed = 12345
			e := lock.Images[old]
			p.Changes = append(p.Changes, planner.Change{Addr: old, Action: planner.Delete, Path: e.Path, Prior: &e, PriorAddr: old})
			return p, nil
		}, "image.cat is created with seed 12345, but its configuration sets none, and the seed planning draws for it is"},
		{"a move and a delete of the same entry", func() (*planner.Plan, []addrs.Addr) {
			p := clone(base)
			e := lock.Images[old]
			// First, as a hand-made file may put it.
			p.Changes = append([]planner.Change{{Addr: old, Action: planner.Delete, Path: e.Path, Prior: &e, PriorAddr: old}}, p.Changes...)
			return p, nil
		}, "both start from the lockfile's entry image.old"},
		{"kept seed changed on a replace", func() (*planner.Plan, []addrs.Addr) {
			p := clone(base)
			at(p, hero).Inputs.Seed = 43
			return p, nil
		}, "image.hero is rendered with seed 43, but the lockfile records seed 42"},
		{"seed of a -replace changed to the recorded one", func() (*planner.Plan, []addrs.Addr) {
			p := clone(plan(avatar))
			c := at(p, avatar)
			c.Inputs.Seed, c.SeedChosen = 7, false
			return p, []addrs.Addr{avatar}
		}, "image.avatar is replaced as -replace asks, but with its recorded seed 7"},
		{"-replace list names an image kept", func() (*planner.Plan, []addrs.Addr) {
			return clone(base), []addrs.Addr{avatar}
		}, "-replace=image.avatar, but the plan does not replace image.avatar (its change is a noop)"},
		{"-replace list names an undeclared image", func() (*planner.Plan, []addrs.Addr) {
			return clone(base), []addrs.Addr{{Name: "ghost"}}
		}, "-replace=image.ghost, which the configuration does not declare"},
		{"a -replace added to the list and the change", func() (*planner.Plan, []addrs.Addr) {
			p := clone(base)
			c := at(p, avatar)
			c.Action, c.Requests, c.Credits, c.CreditsKnown = planner.Replace, 1, 15, true
			c.Reasons, c.Forced = []string{planner.ReplaceRequested}, true
			return p, []addrs.Addr{avatar}
		}, "image.avatar is replaced as -replace asks, but with its recorded seed 7"},
		{"a -replace not forced", func() (*planner.Plan, []addrs.Addr) {
			p := clone(plan(pinned))
			at(p, pinned).Forced = false
			return p, []addrs.Addr{pinned}
		}, "the plan's replace of image.pinned is not forced"},
		{"a pinned -replace without its reason", func() (*planner.Plan, []addrs.Addr) {
			p := clone(base)
			c := at(p, pinned)
			c.Action, c.Requests, c.Credits, c.CreditsKnown = planner.Replace, 1, 15, true
			return p, []addrs.Addr{pinned}
		}, "does not say it is one"},
		{"no-op turned into a move", func() (*planner.Plan, []addrs.Addr) {
			p := clone(base)
			at(p, avatar).Action = planner.Move
			return p, nil
		}, "image.avatar is moved, but neither its path nor its address changed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, replace := tt.edit()
			err := CheckAgainst(p, cfg, lock, replace, factsDisk(facts))
			if err == nil || !strings.Contains(err.Error(), tt.refused) {
				t.Fatalf("CheckAgainst: %v, want an error containing %q", err, tt.refused)
			}
		})
	}
}

func actionsOf(p *planner.Plan) string {
	var s []string
	for _, c := range p.Changes {
		s = append(s, c.Addr.Name+":"+c.Action.String())
	}
	return strings.Join(s, " ")
}

// TestCheckAgainstRestoredSource: a plan that restores an image from the
// image store, or a candidates image's takes from it, and so knows the
// bytes of what is made from it before apply, passes as it was made.
func TestCheckAgainstRestoredSource(t *testing.T) {
	sum := func(c byte) string { return strings.Repeat(string(c), 64) }
	hero := config.Image{Addr: addrs.Addr{Name: "hero"}, Prompt: "a fox", Style: "flux-dev", AspectRatio: "1:1", Seed: 7, Path: "hero.png"}
	small := config.Image{Addr: addrs.Addr{Name: "small"}, From: hero.Addr, Resize: config.Resize{Width: 64}, Path: "small.png"}
	for _, candidates := range []int{0, 3} {
		hero.Candidates = candidates
		in := state.Inputs{Prompt: "a fox", Style: "flux-dev", AspectRatio: "1:1", Seed: 7, Candidates: candidates}
		stored := map[string]string{in.Digest(): sum('a')}
		for i, seed := range in.TakeSeeds() {
			stored[in.Take(seed).Digest()] = sum(byte('a' + i))
		}
		stored[state.Inputs{Source: "image.hero", SourceSHA256: sum('a'), Resize: "64x0"}.Digest()] = sum('s')
		imgs := []config.Image{hero, small}
		pin := planner.Input{Images: imgs, Lock: state.NewLock(), Provider: providers.Imagine,
			Stored:  func(d, _ string) (string, bool) { s, ok := stored[d]; return s, ok },
			NewSeed: func() int64 { return 1 }}
		p, diags := planner.Diff(pin)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		if c := p.Changes[1]; !c.FromStore || c.Inputs.SourceSHA256 != sum('a') {
			t.Fatalf("candidates %d: the plan does not restore small from the store: %+v", candidates, c)
		}
		if err := CheckAgainst(p, &config.Config{Images: imgs}, state.NewLock(), nil, WithRestores(nil, pin)); err != nil {
			t.Errorf("candidates %d: CheckAgainst of the plan as made: %v", candidates, err)
		}
	}
}

// TestCheckAgainstRestoredSourceEdited: a plan whose derived image
// expects other bytes of its source than planning gives for a source
// restored with no request (the content cache's copy, or the take placed
// of a candidates image restored from the cache or the store) is refused:
// its render would not be the one restored, and apply would pay for it
// while the plan says it is free.
func TestCheckAgainstRestoredSourceEdited(t *testing.T) {
	sum := func(c byte) string { return strings.Repeat(string(c), 64) }
	hero := config.Image{Addr: addrs.Addr{Name: "hero"}, Prompt: "a fox", Style: "flux-dev", AspectRatio: "1:1", Seed: 7, Path: "hero.png"}
	small := config.Image{Addr: addrs.Addr{Name: "small"}, From: hero.Addr, Resize: config.Resize{Width: 64}, Path: "small.png"}
	for _, tt := range []struct {
		name       string
		candidates int
		cache      bool // the renders are in the content cache, else the store
	}{
		{"cached", 0, true},
		{"candidates cached", 3, true},
		{"candidates stored", 3, false},
		{"stored", 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			hero.Candidates = tt.candidates
			in := state.Inputs{Prompt: "a fox", Style: "flux-dev", AspectRatio: "1:1", Seed: 7, Candidates: tt.candidates}
			have := map[string]string{in.Digest(): sum('a')}
			for i, seed := range in.TakeSeeds() {
				have[in.Take(seed).Digest()] = sum(byte('a' + i))
			}
			have[state.Inputs{Source: "image.hero", SourceSHA256: sum('a'), Resize: "64x0"}.Digest()] = sum('s')
			look := func(d, _ string) (string, bool) { s, ok := have[d]; return s, ok }
			pin := planner.Input{Images: []config.Image{hero, small}, Lock: state.NewLock(), Provider: providers.Imagine,
				NewSeed: func() int64 { return 1 }}
			if tt.cache {
				pin.Cached = func(d, p string) bool { _, ok := look(d, p); return ok }
				pin.CachedSHA256 = look
			} else {
				pin.Stored = look
			}
			p, diags := planner.Diff(pin)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if c := p.Changes[1]; c.Requests != 0 || c.Inputs.SourceSHA256 != sum('a') {
				t.Fatalf("the plan does not restore small: %+v", c)
			}
			cfg := &config.Config{Images: pin.Images}
			disk := WithRestores(nil, pin)
			if err := CheckAgainst(p, cfg, state.NewLock(), nil, disk); err != nil {
				t.Fatalf("CheckAgainst of the plan as made: %v", err)
			}
			p.Changes[1].Inputs.SourceSHA256 = sum('e')
			err := CheckAgainst(p, cfg, state.NewLock(), nil, disk)
			if err == nil || !strings.Contains(err.Error(), "small expects other bytes of image.hero than the plan restores") {
				t.Errorf("CheckAgainst of an edited source hash: %v", err)
			}
		})
	}
}
