package executor

import (
	"path/filepath"
	"testing"
)

// abs gives what Join gives, whatever the directory and the path.
func TestAbsAsJoin(t *testing.T) {
	for _, dir := range []string{"/w", "/w/x", "w", ".", "", "/", "/w/", "/w/../x", "./w", "/w//x"} {
		r := &run{opts: &Options{Dir: dir}, dirSlash: dirSlashOf(dir)}
		for _, rel := range []string{"a.png", "out/a.png", "out//a.png", "./a.png", "out/../a.png", "../a.png", "/a.png", "out/", "", ".", "..", "a/./b.png", "a/b/c.png", ".hidden/x.png", "..x/a.png"} {
			if got, want := r.abs(rel), filepath.Join(dir, filepath.FromSlash(rel)); got != want {
				t.Errorf("abs(%q) in %q = %q, want %q", rel, dir, got, want)
			}
		}
	}
}
