package state

import (
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
