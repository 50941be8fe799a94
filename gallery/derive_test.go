package gallery

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/state"
)

func TestChainCards(t *testing.T) {
	cfg := &config.Config{Images: []config.Image{
		{Addr: addrs.MustParse("image.hero"), Prompt: "a cat", Path: "hero.png"},
		{Addr: addrs.MustParse("image.hero_2x"), From: addrs.MustParse("image.hero"), Operation: "upscale", Path: "hero_2x.png"},
		{Addr: addrs.MustParse("image.hero_640"), From: addrs.MustParse("image.hero"), Resize: config.Resize{Width: 640}, Path: "hero_640.png"},
		{Addr: addrs.MustParse("image.shelf"), FromFile: "photos/shelf.jpg", Operation: "upscale", Path: "shelf.png"},
	}}
	cards := FromConfig(t.TempDir(), cfg, state.NewLock())
	if got := cards[0].Dependents; !slices.Equal(got, []string{"image.hero_2x", "image.hero_640"}) {
		t.Errorf("hero's dependents %q", got)
	}
	if c := cards[2]; c.Source != "image.hero" || c.Made != "resize 640x0" {
		t.Errorf("hero_640 card: source %q, made %q", c.Source, c.Made)
	}
	var b bytes.Buffer
	if err := Render(&b, &Page{Title: "t", Cards: cards}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{
		`<article id="` + Anchor("image.hero") + `"`,
		`upscale of <a href="#` + Anchor("image.hero") + `">image.hero</a>`,
		`made into <a href="#` + Anchor("image.hero_2x") + `">image.hero_2x</a>, <a href="#` + Anchor("image.hero_640") + `">image.hero_640</a>`,
		`upscale of <code>photos/shelf.jpg</code>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Count(page, "seed random") != 1 {
		t.Errorf("%d cards say \"seed random\", want only the text-to-image one", strings.Count(page, "seed random"))
	}
	// A live page's cards come from the plan, with the same links.
	plan := &planner.Plan{Changes: []planner.Change{
		{Addr: addrs.MustParse("image.hero"), Action: planner.Create},
		{Addr: addrs.MustParse("image.hero_2x"), Action: planner.Create, Inputs: state.Inputs{Operation: "upscale", Source: "image.hero"}},
	}}
	live := FromPlan(plan)
	if !slices.Equal(live[0].Dependents, []string{"image.hero_2x"}) || live[1].Made != "upscale" {
		t.Errorf("live cards %+v", live)
	}
}
