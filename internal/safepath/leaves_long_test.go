package safepath

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLeavesPathTooLong: a path whose directory the kernel can open but
// whose whole name is longer than PATH_MAX gets os.Lstat's answer
// (ENAMETOOLONG, so Leaf reports it Unexamined), in a run or alone,
// whether Warm looked at it first or not.
func TestLeavesPathTooLong(t *testing.T) {
	root := t.TempDir()
	var comps []string
	for i := 0; len(filepath.Join(append([]string{root}, comps...)...)) < 3900; i++ {
		comps = append(comps, strings.Repeat(string(rune('a'+i%26)), 200))
	}
	dir := strings.Join(comps, "/")
	if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
		t.Skip(err)
	}
	ps := []string{dir + "/" + strings.Repeat("x", 250), dir + "/" + strings.Repeat("y", 250)}
	for _, warm := range []bool{false, true} {
		s := NewStats(root)
		if warm {
			// What Warm keeps stands for Leaves: it must be the same.
			s.Warm(ps)
		}
		exists := make([]bool, len(ps))
		errs := make([]error, len(ps))
		s.Leaves(root, ps, exists, errs)
		for i, p := range ps {
			wantOK, wantErr := Leaf(root, p)
			if exists[i] != wantOK || (errs[i] == nil) != (wantErr == nil) {
				t.Errorf("path %d (%d bytes under root, warmed %v): Leaves = %v, %v; Leaf = %v, %v", i, len(root)+1+len(p), warm, exists[i], errs[i], wantOK, wantErr)
			}
		}
	}
}
