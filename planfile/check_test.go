package planfile

import (
	"maps"
	"strings"
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/state"
)

func TestCheckAgainst(t *testing.T) {
	hero := addrs.Addr{Name: "hero"}
	old := addrs.Addr{Name: "old"}
	decl := config.Image{Addr: hero, Prompt: "a fox", Style: "flux-dev", AspectRatio: "1:1", Path: "hero.png"}
	// An entry of other inputs: one of the same would be moved to hero,
	// not rendered again (TestCheckAgainstEdits).
	prior := priorEntry("a cat", "old.png")
	lock := &state.Lock{Images: map[addrs.Addr]state.Entry{addrs.MustParse("image.old"): *prior}}
	create := func(mod func(*planner.Change)) *planner.Plan {
		c := planner.Change{Addr: hero, Action: planner.Create, Path: "hero.png",
			Inputs: state.Inputs{Prompt: "a fox", Style: "flux-dev", AspectRatio: "1:1"}}
		c.Inputs.Seed = planner.DrawnSeed(hero, c.Inputs)
		if mod != nil {
			mod(&c)
		}
		return &planner.Plan{Changes: []planner.Change{c}}
	}
	// kept is a change of hero from its entry, recorded with prompt was.
	kept := func(action planner.Action, was string, mod func(*planner.Change)) *planner.Plan {
		c := planner.Change{Addr: hero, Action: action, Path: "hero.png", PriorAddr: hero,
			Prior:  priorEntry(was, "hero.png"),
			Inputs: state.Inputs{Prompt: "a fox", Style: "flux-dev", AspectRatio: "1:1", Seed: 9}}
		if mod != nil {
			mod(&c)
		}
		return &planner.Plan{Provider: "imagine", Changes: []planner.Change{c}}
	}
	tests := []struct {
		name string
		decl []config.Image
		plan *planner.Plan
		want string // "" when it agrees
	}{
		{"agrees", []config.Image{decl}, create(nil), ""},
		{"undeclared seed other than the drawn one", []config.Image{decl}, create(func(c *planner.Change) { c.Inputs.Seed = 99 }),
			"image.hero is created with seed 99, but its configuration sets none, and the seed planning draws for it is"},
		{"declared seed differs", []config.Image{{Addr: hero, Prompt: "a fox", Style: "flux-dev", AspectRatio: "1:1", Seed: 3, Path: "hero.png"}},
			create(nil), "image.hero differs from its declaration"},
		{"prompt differs", []config.Image{decl}, create(func(c *planner.Change) { c.Inputs.Prompt = "a wolf" }), "differs from its declaration"},
		{"path differs", []config.Image{decl}, create(func(c *planner.Change) { c.Path = "../etc/x.png" }), "differs from its declaration"},
		{"not declared", nil, create(nil), "image.hero is not declared"},
		{"prior not recorded", []config.Image{decl}, create(func(c *planner.Change) {
			c.Action, c.Prior, c.PriorAddr = planner.Replace, priorEntry("x", "hero.png"), addrs.MustParse("image.hero")
		}), "is not in the lockfile"},
		{"deletes a declared image", []config.Image{decl}, &planner.Plan{Changes: []planner.Change{
			{Addr: hero, Action: planner.Delete, Path: "hero.png"}}}, "it deletes image.hero, which is declared"},
		{"deletes a recorded image", []config.Image{decl}, &planner.Plan{Changes: []planner.Change{
			{Addr: old, Action: planner.Delete, Path: "old.png", Prior: prior, PriorAddr: addrs.MustParse("image.old")}}}, ""},
		{"no-op of an undeclared image", nil, &planner.Plan{Changes: []planner.Change{{Addr: hero, Action: planner.NoOp}}}, "image.hero is not declared"},
		{"no-op agrees", []config.Image{decl}, kept(planner.NoOp, "a fox", nil), ""},
		{"no-op of a changed prompt", []config.Image{decl}, kept(planner.NoOp, "a wolf", nil), "image.hero is kept unchanged, but its prompt changed"},
		{"move of a changed prompt", []config.Image{decl}, kept(planner.Move, "a wolf", func(c *planner.Change) { c.Prior.Path = "old.png" }),
			"image.hero is kept unchanged, but its prompt changed"},
		{"no-op of a draft render in an imagine plan", []config.Image{decl}, kept(planner.NoOp, "a fox", func(c *planner.Change) { c.Prior.Provider = "draft" }),
			"but it was rendered by draft"},
		{"replace of a changed prompt", []config.Image{decl}, kept(planner.Replace, "a wolf", nil), ""},
		{"replace nothing asks for", []config.Image{decl}, kept(planner.Replace, "a fox", nil), "image.hero is replaced, but nothing asks for it"},
		{"create of a recorded image", []config.Image{decl}, create(nil), "image.hero is created, but the lockfile records it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lock := &state.Lock{Images: maps.Clone(lock.Images)}
			for _, c := range tt.plan.Changes {
				if c.Prior != nil && c.PriorAddr == hero && tt.name != "prior not recorded" {
					lock.Images[hero] = *c.Prior
				}
			}
			if tt.name == "create of a recorded image" {
				lock.Images[hero] = *priorEntry("a fox", "hero.png")
			}
			err := CheckAgainst(tt.plan, &config.Config{Images: tt.decl}, lock, nil, nil)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("CheckAgainst: %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("CheckAgainst: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
