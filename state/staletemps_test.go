package state

import (
	"os"
	"path/filepath"
	"testing"
)

// RemoveStaleTemps lists and removes a killed run's temporary files in
// each output directory opened with no symbolic link followed: an output
// directory (or .pixform/staging) that is a link to a directory outside
// the working directory, holding files with the very names of stale
// temporary files, is not looked into, and they stay. A real directory
// has its stale temporary files removed, and nothing else.
func TestRemoveStaleTempsFollowsNoLink(t *testing.T) {
	root := t.TempDir()
	dir, outside := filepath.Join(root, "work"), filepath.Join(root, "outside")
	for _, d := range []string{dir, outside, filepath.Join(dir, "real"), filepath.Join(dir, WorkDirName)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	stale := tempPrefix + "a.png-12345"
	theirs := []string{stale, tempPrefix + LockFileName + "-12345", "move-1"}
	for _, n := range theirs {
		if err := os.WriteFile(filepath.Join(outside, n), []byte("not pixform's"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range []string{"out", "deep", filepath.Join(WorkDirName, stagingDirName)} {
		if err := os.Symlink(outside, filepath.Join(dir, l)); err != nil {
			t.Fatal(err)
		}
	}
	ours := filepath.Join(dir, "real", stale)
	if err := os.WriteFile(ours, []byte("left by a kill"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := NewStore(dir, NewLock(), nopJournal{}, nil)
	s.RemoveStaleTemps([]string{"out/a.png", "deep/sub/a.png", "real/a.png", "missing/a.png"})
	for _, n := range theirs {
		if b, err := os.ReadFile(filepath.Join(outside, n)); err != nil || string(b) != "not pixform's" {
			t.Errorf("%s, outside the working directory behind a link, was removed or changed: %q, %v", filepath.Join(outside, n), b, err)
		}
	}
	if _, err := os.Lstat(ours); !os.IsNotExist(err) {
		t.Errorf("the stale temporary file %s in a real output directory was not removed: %v", ours, err)
	}
}
