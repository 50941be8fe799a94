package safepath

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestStatsLeaf: a Stats answers Leaf as Leaf does (missing, a file, a
// symbolic link, a file under a file), and each answer is the first lstat
// of the path: what changes after it is not seen within the run.
func TestStatsLeaf(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "a.png"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a.png", filepath.Join(root, "link.png")); err != nil {
		t.Fatal(err)
	}
	s := NewStats(root)
	for _, p := range []string{"a.png", "link.png", "missing.png", "a.png/under.png"} {
		wantOK, wantErr := Leaf(root, p)
		for range 2 { // the second answer comes from the memo
			ok, err := s.Leaf("ignored", p)
			if ok != wantOK || (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
				t.Errorf("%s: Stats.Leaf = %v, %v; Leaf = %v, %v", p, ok, err, wantOK, wantErr)
			}
		}
	}
	var pe *Error
	if _, err := s.Leaf("", "link.png"); !errors.As(err, &pe) || pe.Reason != Symlink || pe.Target != "a.png" {
		t.Errorf("link.png: %v, want a Symlink error to a.png", err)
	}

	// Within the run, a file's first lstat stands.
	if err := os.Remove(filepath.Join(root, "a.png")); err != nil {
		t.Fatal(err)
	}
	if fi, err := s.Lstat("", "a.png"); err != nil || fi.Size() != 1 {
		t.Errorf("a.png after removal: %v, %v; want the first lstat", fi, err)
	}
	if ok, _ := NewStats(root).Leaf("", "a.png"); ok {
		t.Error("a new Stats still sees the removed a.png")
	}
	// A nil Stats lstats every time, under the root it is given.
	if ok, err := (*Stats)(nil).Leaf(root, "a.png"); ok || err != nil {
		t.Errorf("nil Stats: %v, %v; want missing", ok, err)
	}
}

// TestStatsMissing: only a path whose lstat says it does not exist is
// missing (a name under a file too); an existing directory, ".", a
// symbolic link to nowhere and anything a nil Stats is asked are not.
func TestStatsMissing(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "file"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("nowhere", filepath.Join(root, "dangling")); err != nil {
		t.Fatal(err)
	}
	s := NewStats(root)
	for p, want := range map[string]bool{
		"missing": true, "missing/sub": true, "file/sub": true,
		"dir": false, "file": false, ".": false, "": false, "dangling": false,
	} {
		if got := s.Missing(p); got != want {
			t.Errorf("Missing(%q) = %v, want %v", p, got, want)
		}
	}
	if (*Stats)(nil).Missing("missing") {
		t.Error("a nil Stats says missing")
	}
}
