package safepath

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
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

// After Expect(n), keeping n lstats does not grow the map: it allocates
// next to nothing, where growing it batch by batch copies it each time.
func TestStatsExpectMakesRoom(t *testing.T) {
	const n = 5000
	paths := make([]string, n)
	for i := range paths {
		paths[i] = fmt.Sprintf("images/img-%05d.png", i)
	}
	for _, expect := range []bool{false, true} {
		s := NewStats(t.TempDir())
		s.lstat("a") // a few first, as a load makes
		s.lstat("b")
		if expect {
			s.Expect(n)
		}
		grown := keepAllocates(s, paths)
		if expect && grown > 32<<10 {
			t.Errorf("after Expect(%d), keeping %d lstats allocated %d bytes", n, n, grown)
		}
		if !expect && grown < 64<<10 {
			t.Errorf("without Expect, keeping %d lstats allocated only %d bytes: the test no longer sees the map grow", n, grown)
		}
		if len(s.m) != n+2 {
			t.Errorf("%d lstats kept, want %d", len(s.m), n+2)
		}
	}
	var nilStats *Stats
	nilStats.Expect(n) // no Stats: nothing to do
}

// TestStatsExpectKeepsLargerRoom: Expect does not replace a map already
// made with room for more (Warm's sizeFor, 64 of its paths kept) by a
// smaller one, which would then grow by doubling again.
func TestStatsExpectKeepsLargerRoom(t *testing.T) {
	const room, n = 20000, 500
	s := NewStats(t.TempDir())
	s.mu.Lock()
	s.sizeFor(room)
	for i := range 64 {
		s.keep(fmt.Sprintf("warm/%d.png", i), lstatResult{})
	}
	s.mu.Unlock()
	s.Expect(n)
	paths := make([]string, room-64)
	for i := range paths {
		paths[i] = fmt.Sprintf("images/img-%05d.png", i)
	}
	if grown := keepAllocates(s, paths); grown > 64<<10 {
		t.Errorf("after sizeFor(%d) and Expect(%d), keeping %d lstats allocated %d bytes", room, n, room-64, grown)
	}
}

// keepAllocates keeps an lstat of each of paths in s, as a load does, and
// returns the bytes that allocated.
func keepAllocates(s *Stats, paths []string) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	s.mu.Lock()
	for _, p := range paths {
		s.keep(p, lstatResult{})
	}
	s.mu.Unlock()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
