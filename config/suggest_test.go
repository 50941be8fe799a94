package config

import (
	"testing"

	"github.com/pixform/pixform/addrs"
)

func TestSuggestAddr(t *testing.T) {
	known := []addrs.Addr{{Name: "hero"}, {Name: "icon", Kind: addrs.StringKey, Key: "home"}, {Name: "variant", Kind: addrs.IntKey, Index: 0}}
	for name, tc := range map[string]struct {
		given string
		want  string
	}{
		"typo in a name":     {"image.heor", "image.hero"},
		"typo in a key":      {`image.icon["hmoe"]`, `image.icon["home"]`},
		"block of instances": {"image.icons", "image.icon"},
		"index":              {"image.variant[1]", "image.variant[0]"},
		"nothing close":      {"image.zzzzzzzz", ""},
		"without the prefix": {"hreo", "image.hero"},
	} {
		t.Run(name, func(t *testing.T) {
			a, err := addrs.Parse(tc.given)
			if err != nil {
				t.Fatal(err)
			}
			if got := SuggestAddr(a, known); got != tc.want {
				t.Errorf("SuggestAddr(%s) = %q, want %q", tc.given, got, tc.want)
			}
		})
	}
}

func TestSuggest(t *testing.T) {
	commands := []string{"validate", "plan", "apply", "watch", "fmt", "show", "state"}
	for given, want := range map[string]string{"plna": "plan", "aply": "apply", "stat": "state", "frobnicate": "", "x": ""} {
		if got := Suggest(given, commands); got != want {
			t.Errorf("Suggest(%q) = %q, want %q", given, got, want)
		}
	}
}
