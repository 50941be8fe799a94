package state

import (
	"context"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/pixform/pixform/addrs"
)

// keepAllT keeps, in a run of its own (a Store closed at its end, as an
// apply's), content(d) as the render of each of ds.
func keepAllT(t *testing.T, dir string, ds []string, content func(d string) string) {
	t.Helper()
	c := OpenCache(dir)
	s := OpenStore(dir, &Lock{Images: map[addrs.Addr]Entry{}}, c)
	for _, d := range ds {
		keepT(t, c, dir, d, "imagine", ".png", content(d))
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Renders kept again (apply -no-cache) leave dead records; once they are
// most of the cache, the run that holds the lock writes the live ones to
// one new pack and removes the rest. A reader that held a pack open
// still reads it; every render is still served, the newest.
func TestCacheCompacts(t *testing.T) {
	dir := t.TempDir()
	ds := digests(compactRecords/2 + 10)
	run := func(n int) func(string) string {
		return func(d string) string { return fmt.Sprintf("run %d of %s", n, d) }
	}
	keepAllT(t, dir, ds, run(1))
	keepAllT(t, dir, ds, run(2)) // half dead, fewer than compactRecords
	if packs, _ := cacheFiles(t, dir); len(packs) != 2 {
		t.Fatalf("packs %v: compacted too soon", packs)
	}
	reader := OpenCache(dir)
	held, err := reader.Open(ds[0], "imagine")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	keepAllT(t, dir, ds, run(3)) // two thirds dead, more than compactRecords
	packs, loose := cacheFiles(t, dir)
	if len(packs) != 1 || len(loose) != 0 {
		t.Fatalf("packs %v, other files %v: want one pack", packs, loose)
	}
	if b, err := io.ReadAll(held); err != nil || string(b) != run(2)(ds[0]) {
		t.Fatalf("a reader of a removed pack read %q, %v", b, err)
	}
	c := OpenCache(dir)
	if n := len(c.Keys()); n != len(ds) {
		t.Fatalf("%d keys, want %d", n, len(ds))
	}
	for _, d := range ds {
		wantServed(t, c, d, "imagine", run(3)(d))
	}
	c.load()
	if c.packRecords != int64(len(ds)) {
		t.Fatalf("%d records, want %d", c.packRecords, len(ds))
	}
}

// Compaction keeps the copy that hashes right: a damaged newest render
// gives way to an intact older one, and one with none is dropped.
func TestCacheCompactKeepsIntact(t *testing.T) {
	dir := t.TempDir()
	ds := digests(compactRecords + 10)
	keepAllT(t, dir, ds, func(d string) string { return "old " + d })
	keepAllT(t, dir, ds, func(d string) string { return "new " + d })
	packs, _ := cacheFiles(t, dir)
	// Damage the newest render of ds[0] and ds[1], and ds[1]'s older.
	for _, p := range packs {
		c := OpenCache(dir)
		c.load()
		for _, d := range ds[:2] {
			for _, f := range append([]cacheFile{c.entries[mustKey(t, c, d)]}, c.older[mustKey(t, c, d)]...) {
				if c.packs[f.pack-1] == p && (d == ds[1] || f == c.entries[mustKey(t, c, d)]) {
					h, _ := os.OpenFile(dir+"/"+WorkDirName+"/"+cacheDirName+"/"+p, os.O_RDWR, 0)
					h.WriteAt([]byte("X"), f.off)
					h.Close()
				}
			}
		}
	}
	keepAllT(t, dir, ds[2:3], func(d string) string { return "again " + d }) // compacts
	if packs, _ := cacheFiles(t, dir); len(packs) != 1 {
		t.Fatalf("packs %v: want one", packs)
	}
	c := OpenCache(dir)
	wantServed(t, c, ds[0], "imagine", "old "+ds[0])
	wantAbsent(t, c, ds[1], "imagine")
	wantServed(t, c, ds[2], "imagine", "again "+ds[2])
	wantServed(t, c, ds[3], "imagine", "new "+ds[3])
}

func mustKey(t *testing.T, c *Cache, d string) cacheKey {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.key(d, "imagine")
	if !ok {
		t.Fatal(d)
	}
	return k
}

// Compaction removes the packs it read from, with no reader holding one:
// on Windows a pack still open, even by the compaction itself, is not
// removed.
func TestCacheCompactRemovesPacksRead(t *testing.T) {
	dir := t.TempDir()
	ds := digests(compactRecords/2 + 10)
	for n := 1; n <= 3; n++ {
		keepAllT(t, dir, ds, func(d string) string { return fmt.Sprintf("run %d of %s", n, d) })
	}
	if packs, loose := cacheFiles(t, dir); len(packs) != 1 || len(loose) != 0 {
		t.Fatalf("packs %v, other files %v: want one pack", packs, loose)
	}
}
