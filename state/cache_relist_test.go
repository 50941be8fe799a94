package state

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/pixform/pixform/addrs"
)

// A reader that takes no lock (plan, the gallery) lists the cache, and
// then an apply's compaction (another process, holding the lock) writes
// every render served into a new pack and removes the packs listed. The
// reader that then opens a render finds its pack gone: it lists the
// cache again, once, and serves the render from the new pack, never
// counting it as not cached (which would plan a paid request).
func TestCacheReaderListsAgainAfterCompaction(t *testing.T) {
	ds := digests(compactRecords/2 + 10)
	run := func(n int) func(string) string {
		return func(d string) string { return fmt.Sprintf("run %d of %s", n, d) }
	}
	for name, use := range map[string]func(t *testing.T, c *Cache, d string){
		"Intact (plan)": func(t *testing.T, c *Cache, d string) {
			if !c.Intact(d, "imagine") || c.Damaged(d, "imagine") {
				t.Fatalf("%.8s: Intact %v, Damaged %v after a compaction; want it served", d, c.Intact(d, "imagine"), c.Damaged(d, "imagine"))
			}
		},
		"Open (gallery, restore)": func(t *testing.T, c *Cache, d string) {
			if got, err := readCached(c, d, "imagine"); err != nil || got != run(3)(d) {
				t.Fatalf("Open(%.8s) read %q, %v after a compaction; want %q", d, got, err, run(3)(d))
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			keepAllT(t, dir, ds, run(1))
			keepAllT(t, dir, ds, run(2))
			reader := OpenCache(dir)
			if !reader.Keys()[CacheKey(ds[0], "imagine")] { // the listing
				t.Fatal("not cached")
			}
			keepAllT(t, dir, ds, run(3)) // compacts: the packs listed are gone
			if packs, _ := cacheFiles(t, dir); len(packs) != 1 {
				t.Fatalf("packs %v: want one, compacted", packs)
			}
			use(t, reader, ds[0])
			use(t, reader, ds[1])
			wantServed(t, reader, ds[2], "imagine", run(3)(ds[2]))
		})
	}
}

// The apply's own compaction (at its Store's Close) moves every render
// it serves while a reader of the same Cache (an upload to the image
// store reading a take) has looked a render up and not yet opened it:
// the open finds the pack gone and opens the render where it is now.
func TestCacheOpenDuringItsOwnCompaction(t *testing.T) {
	dir := t.TempDir()
	ds := digests(compactRecords/2 + 10)
	run := func(n int) func(string) string {
		return func(d string) string { return fmt.Sprintf("run %d of %s", n, d) }
	}
	keepAllT(t, dir, ds, run(1))
	keepAllT(t, dir, ds, run(2))
	c := OpenCache(dir)
	s := OpenStore(dir, &Lock{Images: map[addrs.Addr]Entry{}}, c)
	for _, d := range ds {
		keepT(t, c, dir, d, "imagine", ".png", run(3)(d))
	}
	// A render of one copy, opened with no look at the others first.
	fresh := digests(len(ds) + 1)[len(ds)]
	keepT(t, c, dir, fresh, "imagine", ".png", "a take")
	var once sync.Once
	c.beforeOpen = func() {
		once.Do(func() {
			if err := s.Close(context.Background()); err != nil { // compacts
				t.Error(err)
			}
		})
	}
	got, err := readCached(c, fresh, "imagine")
	if packs, _ := cacheFiles(t, dir); len(packs) != 1 {
		t.Fatalf("packs %v: want one, compacted", packs)
	}
	if err != nil || got != "a take" {
		t.Fatalf("Open read %q, %v across a compaction; want %q", got, err, "a take")
	}
}
