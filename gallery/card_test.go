package gallery

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/executor"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/state"
)

func TestAddrSegments(t *testing.T) {
	for addr, want := range map[string][]string{
		"image.hero":                    {"image.", "hero"},
		`image.feature_icon["offline"]`: {"image.", "feature_icon", `["offline"]`},
		"image.variant[12]":             {"image.", "variant", "[12]"},
		`image.icon["a.b[c]"]`:          {"image.", "icon", `["a.b[c]"]`},
		"hero":                          {"hero"},
		"":                              nil,
	} {
		if got := AddrSegments(addr); !slices.Equal(got, want) {
			t.Errorf("AddrSegments(%q) = %q, want %q", addr, got, want)
		}
	}
}

// TestRenderAddrWraps checks that a card's address may wrap only after
// "image." and before its key, never mid-word, and carries its full text as
// a tooltip.
func TestRenderAddrWraps(t *testing.T) {
	var b bytes.Buffer
	addr := `image.feature_icon["offline-mode"]`
	if err := Render(&b, &Page{Title: "t", Cards: []Card{{Addr: addr, AspectRatio: "1:1", State: NotRendered, Path: "images/icons/offline-mode.png"}}}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	want := `<code class="addr" title="image.feature_icon[&#34;offline-mode&#34;]"><span>image.</span><wbr><span>feature_icon</span><wbr><span>[&#34;offline-mode&#34;]</span></code>`
	if !strings.Contains(page, want) {
		t.Errorf("the address is not rendered as\n%s\nin\n%s", want, regexp.MustCompile(`<code class="addr"[^\n]*</code>`).FindString(page))
	}
	css := regexp.MustCompile(`(?m)^\.addr\{[^}]*\}`).FindString(page)
	if css == "" {
		t.Fatal("no .addr rule in the page's CSS")
	}
	for _, bad := range []string{"break-all", "anywhere"} {
		if strings.Contains(css, bad) {
			t.Errorf(".addr CSS %q lets the address break mid-word (%s)", css, bad)
		}
	}
	if p := `<div class="path">images/<wbr>icons/<wbr>offline-mode.png</div>`; !strings.Contains(page, p) {
		t.Errorf("the path does not wrap first after each /: want %s", p)
	}
	if !strings.Contains(page, `.addr span{white-space:nowrap}`) {
		t.Error("the segments of an address may wrap inside themselves")
	}
}

// TestCardSeedIsAtPath: a card shows the seed of the bytes at the path,
// which for a picked candidates image is the picked take's, not the
// first take's that the inputs record (issue s16-review 3).
func TestCardSeedIsAtPath(t *testing.T) {
	hero := addrs.MustParse("image.hero")
	e := state.Entry{Inputs: state.Inputs{Prompt: "p", Seed: 11, Candidates: 3}, Path: "hero.png", SHA256: shaB,
		Takes: []state.Take{{Seed: 11, SHA256: shaA}, {Seed: 22, SHA256: shaB}, {Seed: 33}}, Picked: 2}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hero.png"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if c := FromConfig(dir, nil, &state.Lock{Images: map[addrs.Addr]state.Entry{hero: e}}); c[0].Seed != 22 {
		t.Errorf("static page without a configuration: seed %d, want 22", c[0].Seed)
	}
	p := &planner.Plan{Changes: []planner.Change{{Addr: hero, Action: planner.NoOp, Inputs: e.Inputs, Path: e.Path, Prior: &e}}}
	if c := FromPlan(p); c[0].Seed != 22 {
		t.Errorf("live card from a plan: seed %d, want 22", c[0].Seed)
	}
	unpicked := e
	unpicked.Picked, unpicked.SHA256 = 0, shaA
	p.Changes[0].Prior = &unpicked
	if c := FromPlan(p); c[0].Seed != 11 {
		t.Errorf("live card, no pick: seed %d, want 11", c[0].Seed)
	}
	s := NewServer(dir, "t")
	s.Set(FromPlan(p))
	s.Hooks().Completed(&p.Changes[0], e, executor.Restored)
	if c := s.Cards(); c[0].Seed != 22 {
		t.Errorf("live card after an apply: seed %d, want 22", c[0].Seed)
	}
}
