package planfile

import (
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
	prior := priorEntry("a fox", "old.png")
	lock := &state.Lock{Images: map[addrs.Addr]state.Entry{addrs.MustParse("image.old"): *prior}}
	create := func(mod func(*planner.Change)) *planner.Plan {
		c := planner.Change{Addr: hero, Action: planner.Create, Path: "hero.png",
			Inputs: state.Inputs{Prompt: "a fox", Style: "flux-dev", AspectRatio: "1:1", Seed: 7}}
		if mod != nil {
			mod(&c)
		}
		return &planner.Plan{Changes: []planner.Change{c}}
	}
	tests := []struct {
		name string
		decl []config.Image
		plan *planner.Plan
		want string // "" when it agrees
	}{
		{"agrees", []config.Image{decl}, create(nil), ""},
		{"undeclared seed matches any", []config.Image{decl}, create(func(c *planner.Change) { c.Inputs.Seed = 99 }), ""},
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
		{"no-op is not checked", nil, &planner.Plan{Changes: []planner.Change{{Addr: hero, Action: planner.NoOp}}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckAgainst(tt.plan, &config.Config{Images: tt.decl}, lock)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("CheckAgainst: %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("CheckAgainst: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
