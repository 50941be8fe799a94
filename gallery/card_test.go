package gallery

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
	"testing"
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
