package state

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/pixform/pixform/internal/safepath"
)

// TestStatKeyThroughStats: what the stat cache compares is the same from
// os.Lstat and from a safepath.Stats, which keeps only some fields.
func TestStatKeyThroughStats(t *testing.T) {
	dir := t.TempDir()
	writeFileT(t, dir, "a.png", "aaa")
	if err := os.Mkdir(filepath.Join(dir, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a.png", filepath.Join(dir, "l.png")); err != nil {
		t.Fatal(err)
	}
	stats := safepath.NewStats(dir)
	for _, p := range []string{"a.png", "d", "l.png"} {
		want, err := os.Lstat(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		got, err := stats.Lstat("", p)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name() != want.Name() || got.Size() != want.Size() || got.Mode() != want.Mode() ||
			!got.ModTime().Equal(want.ModTime()) || got.IsDir() != want.IsDir() {
			t.Errorf("%s: Stats %v %d %v %v, os %v %d %v %v", p, got.Name(), got.Size(), got.Mode(), got.ModTime(), want.Name(), want.Size(), want.Mode(), want.ModTime())
		}
		// Windows's lstat has no inode or change time: the key is the
		// size and modification time there (SECURITY.md, Windows).
		if k, w := statKeyOf(got), statKeyOf(want); k != w || runtime.GOOS != "windows" && (w.Ino == 0 || w.CTime == 0) {
			t.Errorf("%s: stat key through Stats %+v, from os.Lstat %+v", p, k, w)
		}
	}
	if fi, err := stats.Lstat("", "missing.png"); fi != nil || !os.IsNotExist(err) {
		t.Errorf("missing.png: %v, %v", fi, err)
	}
}
