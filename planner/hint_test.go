package planner

import (
	"strings"
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

// The hint to include the image whose file a targeted one would overwrite
// prints its address as one shell word: -target='image.b["x"]'.
func TestDiffOwnedPathHintQuotesTheAddress(t *testing.T) {
	b := addrs.Addr{Name: "b", Kind: addrs.StringKey, Key: "x"}
	imgB := img(t, "image.b", "dog", 6, "b.png")
	imgB.Addr = b
	in := Input{
		Images: []config.Image{img(t, "image.a", "cat", 5, "hero.png"), imgB},
		Lock: &state.Lock{Images: map[addrs.Addr]state.Entry{
			b: entry("dog", 6, "Hero.png", providers.Imagine, "aa"),
		}},
		Facts:    map[string]FileFact{"Hero.png": {Exists: true, SHA256: "aa"}},
		Provider: providers.Imagine,
		Targets:  []addrs.Addr{addr(t, "image.a")},
	}
	_, diags := Diff(in)
	if !diags.HasErrors() || !strings.Contains(diags[0].Detail, `Include it with -target='image.b["x"]', or give image.a another path.`) {
		t.Fatalf("diags %v", diags)
	}
}
