package state

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCacheEmpty: a working directory without a cache, or with an empty
// one, holds nothing; one render makes it not empty, read afresh too.
func TestCacheEmpty(t *testing.T) {
	dir := t.TempDir()
	if !OpenCache(dir).Empty() {
		t.Fatal("no cache directory: not empty")
	}
	if _, err := ensureWorkSubDir(dir, cacheDirName); err != nil {
		t.Fatal(err)
	}
	writeFileT(t, dir, filepath.Join(WorkDirName, cacheDirName, "not-a-render.txt"), "x")
	if !OpenCache(dir).Empty() {
		t.Fatal("a cache directory without renders: not empty")
	}
	d := Inputs{Prompt: "a", Style: "s", AspectRatio: "1:1", Seed: 1}.Digest()
	writeFileT(t, dir, "a.jpg", "original")
	c := OpenCache(dir)
	if err := c.Put(d, "imagine", filepath.Join(dir, "a.jpg"), ""); err != nil {
		t.Fatal(err)
	}
	if c.Empty() || OpenCache(dir).Empty() {
		t.Fatal("a cache with a render is empty")
	}
}

// TestCacheAbsent: a cache without a directory, or whose directory is
// reached through a link, is absent (and empty); one with a directory is
// not absent, even while it holds nothing.
func TestCacheAbsent(t *testing.T) {
	dir := t.TempDir()
	if c := OpenCache(dir); !c.Absent() || !c.Empty() {
		t.Fatal("no cache directory: not absent and empty")
	}
	if _, err := ensureWorkSubDir(dir, cacheDirName); err != nil {
		t.Fatal(err)
	}
	if OpenCache(dir).Absent() {
		t.Fatal("an empty cache directory: absent")
	}

	linked := t.TempDir()
	real := t.TempDir()
	if err := os.Mkdir(filepath.Join(linked, WorkDirName), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(real, cacheDirName), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(real, cacheDirName), filepath.Join(linked, WorkDirName, cacheDirName)); err != nil {
		t.Fatal(err)
	}
	if c := OpenCache(linked); !c.Absent() || !c.Empty() {
		t.Fatal("a cache directory through a link: not absent and empty")
	}
}
