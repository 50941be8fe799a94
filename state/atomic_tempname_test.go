package state

import (
	"path/filepath"
	"testing"
)

// unnamedTempName names the file as Join of its target's directory and
// marked base would, whatever the target.
func TestUnnamedTempNameAsJoin(t *testing.T) {
	for _, target := range []string{
		"/w/out/a.png", "/a.png", "a.png", "out/a.png", "/w//out/a.png", "/w/./out/a.png",
		"/w/../out/a.png", "/w/out/", "/w/out/.", "/w/out/..", "./a.png", "../a.png", "", "/",
	} {
		for _, final := range []bool{true, false} {
			suffix := unnamedPrivate
			if final {
				suffix = unnamedFinal
			}
			want := filepath.Join(filepath.Dir(target), tempPrefix+filepath.Base(target)+suffix)
			if got := unnamedTempName(target, final); got != want {
				t.Errorf("unnamedTempName(%q, %v) = %q, want %q", target, final, got, want)
			}
		}
	}
}
