package state

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pixform/pixform/internal/safepath"
)

// TestRefreshStatsCacheReadAhead: a stat cache read ahead (ReadStatCache)
// is what the refresh trusts, as if it had read it itself; one read for
// another directory is not used.
func TestRefreshStatsCacheReadAhead(t *testing.T) {
	dir := t.TempDir()
	writeFileT(t, dir, "a.png", "aaa")
	l := lockWithPaths("a.png")
	if _, err := refresh(dir, l, false, later()); err != nil {
		t.Fatal(err)
	}
	cachePath := filepath.Join(dir, WorkDirName, statCacheName)
	data, err := os.ReadFile(cachePath)
	if err != nil {
		t.Fatal(err)
	}
	// The cache read ahead holds a planted hash; the file is then given
	// another: the refresh believes what was read ahead.
	planted := strings.Replace(string(data), sha("aaa"), sha("planted"), 1)
	if err := os.WriteFile(cachePath, []byte(planted), 0o644); err != nil {
		t.Fatal(err)
	}
	ahead := ReadStatCache(dir)
	if err := os.WriteFile(cachePath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	stats := safepath.NewStats(dir)
	facts, err := RefreshStatsCache(dir, l, nil, false, stats, ahead)
	if err != nil {
		t.Fatal(err)
	}
	if got := facts["a.png"].SHA256; got != sha("planted") {
		t.Fatalf("read ahead: got %s, want the planted hash", got)
	}

	// A cache read for another directory is not this one's: the refresh
	// reads dir's own, which holds the true hash again.
	other := t.TempDir()
	facts, err = RefreshStatsCache(dir, l, nil, false, safepath.NewStats(dir), ReadStatCache(other))
	if err != nil {
		t.Fatal(err)
	}
	if got := facts["a.png"].SHA256; got != sha("aaa") {
		t.Fatalf("another directory's cache: got %s, want the one on disk's", got)
	}

	// Without one, the refresh reads its own, as RefreshStats does.
	want, err := RefreshStats(dir, l, nil, false, safepath.NewStats(dir))
	if err != nil {
		t.Fatal(err)
	}
	got, err := RefreshStatsCache(dir, l, nil, false, safepath.NewStats(dir), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got["a.png"] != want["a.png"] {
		t.Fatalf("no cache read ahead: got %+v, want %+v", got["a.png"], want["a.png"])
	}
}
