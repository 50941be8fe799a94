package state

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pixform/pixform/internal/safepath"
)

// TestCheckLockPathsLongSameThroughStats: a lockfile path longer than
// PATH_MAX under the working directory (whose directory is shorter) is
// refused the same way with or without a plan's Stats, on every run:
// map order must not decide whether it is checked.
func TestCheckLockPathsLongSameThroughStats(t *testing.T) {
	dir := t.TempDir()
	var comps []string
	for i := 0; len(filepath.Join(append([]string{dir}, comps...)...)) < 3900; i++ {
		comps = append(comps, strings.Repeat(string(rune('a'+i%26)), 200))
	}
	long := strings.Join(comps, "/")
	if err := os.MkdirAll(filepath.Join(dir, long), 0o755); err != nil {
		t.Skip(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "other"), 0o755); err != nil {
		t.Fatal(err)
	}
	lock := lockWithPaths(long+"/"+strings.Repeat("x", 240)+".png", long+"/"+strings.Repeat("y", 240)+".png", "other/z.png")
	data := lock.Marshal()
	want := fmt.Sprint(CheckLockPaths(dir, lock, data, "f.json"))
	for i := range 20 {
		if got := fmt.Sprint(CheckLockPathsStats(dir, lock, data, "f.json", safepath.NewStats(dir))); got != want {
			t.Fatalf("run %d through a Stats: %.200s\nwithout: %.200s", i, got, want)
		}
	}
}
