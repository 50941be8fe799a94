package state

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/pixform/pixform/addrs"
)

// keepT keeps content as the render of digest by provider, as an apply
// does: from a temporary file beside an output, then given up.
func keepT(t *testing.T, c *Cache, dir, digest, provider, ext, content string) {
	t.Helper()
	f, err := CreateTemp(filepath.Join(dir, "out", "a"+ext))
	if err != nil {
		t.Fatal(err)
	}
	defer AbortTemp(f)
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
	if err := c.Keep(digest, provider, f, ext, sha(content)); err != nil {
		t.Fatal(err)
	}
}

// cacheFiles lists the cache directory: its packs and its other files.
func cacheFiles(t *testing.T, dir string) (packs, loose []string) {
	t.Helper()
	des, err := os.ReadDir(filepath.Join(dir, WorkDirName, cacheDirName))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	for _, de := range des {
		if strings.HasSuffix(de.Name(), packExt) {
			packs = append(packs, de.Name())
		} else {
			loose = append(loose, de.Name())
		}
	}
	sort.Strings(packs)
	return packs, loose
}

// readCached is what Open of digest by provider reads, or the error.
func readCached(c *Cache, digest, provider string) (string, error) {
	r, err := c.Open(digest, provider)
	if err != nil {
		return "", err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	return string(b), err
}

// wantServed checks that c serves content, intact, for digest by provider.
func wantServed(t *testing.T, c *Cache, digest, provider, content string) {
	t.Helper()
	info, ok := c.Info(digest, provider)
	if !ok || info.SHA256 != sha(content) {
		t.Fatalf("Info(%.8s) = %+v, %v; want the hash of %q", digest, info, ok, content)
	}
	if !c.Has(digest, provider) || !c.Keys()[CacheKey(digest, provider)] {
		t.Fatalf("Has or Keys forget %.8s", digest)
	}
	if !c.Intact(digest, provider) || c.Damaged(digest, provider) {
		t.Fatalf("%.8s: Intact %v, Damaged %v", digest, c.Intact(digest, provider), c.Damaged(digest, provider))
	}
	if got, err := readCached(c, digest, provider); err != nil || got != content {
		t.Fatalf("Open(%.8s) read %q, %v; want %q", digest, got, err, content)
	}
}

func wantAbsent(t *testing.T, c *Cache, digest, provider string) {
	t.Helper()
	if c.Has(digest, provider) || c.Intact(digest, provider) || c.Keys()[CacheKey(digest, provider)] {
		t.Fatalf("%.8s is served", digest)
	}
	if _, err := c.Open(digest, provider); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open(%.8s): %v, want not exist", digest, err)
	}
}

func digests(n int) []string {
	var ds []string
	for i := range n {
		ds = append(ds, Inputs{Prompt: "p", Style: "s", AspectRatio: "1:1", Seed: int64(i + 1)}.Digest())
	}
	return ds
}

// An apply's renders go to one pack, one record each, not to a file
// each; a later Cache (another run) reads them back, every one checked.
func TestCachePackRoundTrip(t *testing.T) {
	ds := digests(3)
	type keep struct{ digest, provider, ext, content string }
	tests := map[string]struct {
		keeps []keep
		want  map[string]string // digest/provider: content
	}{
		"one": {
			keeps: []keep{{ds[0], "imagine", ".png", "one"}},
			want:  map[string]string{CacheKey(ds[0], "imagine"): "one"},
		},
		"three, two formats and providers": {
			keeps: []keep{{ds[0], "imagine", ".png", "one"}, {ds[1], "draft", ".jpg", "two"}, {ds[2], "imagine_2", ".jpeg", ""}},
			want:  map[string]string{CacheKey(ds[0], "imagine"): "one", CacheKey(ds[1], "draft"): "two", CacheKey(ds[2], "imagine_2"): ""},
		},
		"a key kept again: the later render": {
			keeps: []keep{{ds[0], "imagine", ".png", "old"}, {ds[1], "imagine", ".png", "two"}, {ds[0], "imagine", ".png", "new"}},
			want:  map[string]string{CacheKey(ds[0], "imagine"): "new", CacheKey(ds[1], "imagine"): "two"},
		},
		"large": {
			keeps: []keep{{ds[0], "imagine", ".png", strings.Repeat("0123456789abcdef", 40000)}, {ds[1], "imagine", ".png", "small"}},
			want:  map[string]string{CacheKey(ds[0], "imagine"): strings.Repeat("0123456789abcdef", 40000), CacheKey(ds[1], "imagine"): "small"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			c := OpenCache(dir)
			for _, k := range tc.keeps {
				keepT(t, c, dir, k.digest, k.provider, k.ext, k.content)
			}
			packs, loose := cacheFiles(t, dir)
			if len(packs) != 1 || len(loose) != 0 {
				t.Fatalf("cache directory: packs %v, other files %v; want one pack", packs, loose)
			}
			for _, cc := range []*Cache{c, OpenCache(dir)} {
				if got := len(cc.Keys()); got != len(tc.want) {
					t.Fatalf("%d keys, want %d", got, len(tc.want))
				}
				for key, content := range tc.want {
					d, p, _ := strings.Cut(key, "/")
					wantServed(t, cc, d, p, content)
				}
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// packRecords is where each render of the only pack in dir is, in
// order: its header's offset, its data's offset and size.
func packRecords(t *testing.T, dir string, ds []string) (pack string, recs [][3]int64) {
	t.Helper()
	packs, _ := cacheFiles(t, dir)
	if len(packs) != 1 {
		t.Fatalf("packs %v", packs)
	}
	c := OpenCache(dir)
	c.load()
	for _, d := range ds {
		_, f, ok := c.lookupLocked(d, "imagine")
		if !ok || f.pack == 0 {
			t.Fatalf("%.8s is not in a pack", d)
		}
		recs = append(recs, [3]int64{f.off - int64(recordHeaderSize("imagine", ".png")), f.off, f.size})
	}
	return filepath.Join(dir, WorkDirName, cacheDirName, packs[0]), recs
}

// packT keeps content(i) as the render of each d = ds[i] in one run,
// closes its pack, and returns the pack and its records (packRecords).
func packT(t *testing.T, dir string, ds []string, content func(i int) string) (pack string, recs [][3]int64) {
	t.Helper()
	c := OpenCache(dir)
	for i, d := range ds {
		keepT(t, c, dir, d, "imagine", ".png", content(i))
	}
	c.Close()
	return packRecords(t, dir, ds)
}

// flipT flips the bits mask of the byte at off of the file at path.
func flipT(t *testing.T, path string, off int64, mask byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= mask
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// A pack cut short (a run killed, or the power lost, mid-append) serves
// the renders whose bytes are all there, never the torn one; bytes after
// the last whole record (a header cut short) are ignored.
func TestCachePackTornTail(t *testing.T) {
	ds := digests(3)
	contents := []string{"first render", "second render", "third render"}
	tests := map[string]struct {
		cut    func(recs [][3]int64) int64 // the pack's new size
		served int                         // renders still served
	}{
		"last byte":          {func(r [][3]int64) int64 { return r[2][1] + r[2][2] - 1 }, 2},
		"all of the data":    {func(r [][3]int64) int64 { return r[2][1] }, 2},
		"into the header":    {func(r [][3]int64) int64 { return r[2][0] + 10 }, 2},
		"the whole record":   {func(r [][3]int64) int64 { return r[2][0] }, 2},
		"two records":        {func(r [][3]int64) int64 { return r[1][0] + 3 }, 1},
		"into the file head": {func(r [][3]int64) int64 { return 3 }, 0},
		"garbage after":      {func(r [][3]int64) int64 { return r[2][1] + r[2][2] + 40 }, 3},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			pack, recs := packT(t, dir, ds, func(i int) string { return contents[i] })
			size := tc.cut(recs)
			if err := os.Truncate(pack, size); err != nil {
				t.Fatal(err)
			}
			if size > recs[2][1]+recs[2][2] { // garbage after: a header's start
				f, _ := os.OpenFile(pack, os.O_WRONLY, 0)
				f.WriteAt([]byte(recordMagic+"\xff\xff"), recs[2][1]+recs[2][2])
				f.Close()
			}
			cc := OpenCache(dir)
			for i, d := range ds {
				if i < tc.served {
					wantServed(t, cc, d, "imagine", contents[i])
				} else {
					wantAbsent(t, cc, d, "imagine")
				}
			}
			// A later run keeps the torn render again, in a pack of
			// its own: it is served.
			keepT(t, cc, dir, ds[2], "imagine", ".png", contents[2])
			cc.Close()
			wantServed(t, OpenCache(dir), ds[2], "imagine", contents[2])
		})
	}
}

// A record whose bytes changed is never served: a changed render is
// found by Intact, said by Damaged, and fails Open's read; a changed
// header loses its own render only (its lengths are not trusted: the
// reader looks for the next header whose checksum holds). The
// next Keep of the render replaces it.
func TestCachePackCorruptRecord(t *testing.T) {
	ds := digests(3)
	contents := []string{"first render", "second render", "third render"}
	tests := map[string]struct {
		at      func(recs [][3]int64) int64
		damaged bool // the second is found damaged; else not served
		served  []int
	}{
		"data":          {func(r [][3]int64) int64 { return r[1][1] + 3 }, true, []int{0, 2}},
		"last data":     {func(r [][3]int64) int64 { return r[1][1] + r[1][2] - 1 }, true, []int{0, 2}},
		"header length": {func(r [][3]int64) int64 { return r[1][0] + 5 }, false, []int{0, 2}},
		"header key":    {func(r [][3]int64) int64 { return r[1][0] + 20 }, false, []int{0, 2}},
		"header magic":  {func(r [][3]int64) int64 { return r[1][0] }, false, []int{0, 2}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			pack, recs := packT(t, dir, ds, func(i int) string { return contents[i] })
			flipT(t, pack, tc.at(recs), 0x55)

			cc := OpenCache(dir)
			for _, i := range tc.served {
				wantServed(t, cc, ds[i], "imagine", contents[i])
			}
			wantKeys := len(tc.served)
			if tc.damaged {
				wantKeys++
			} else if len(tc.served) == 1 {
				wantAbsent(t, cc, ds[2], "imagine") // after a header not trusted
			}
			if n := len(cc.Keys()); n != wantKeys {
				t.Fatalf("%d keys, want %d", n, wantKeys)
			}
			if tc.damaged {
				if !cc.Has(ds[1], "imagine") || cc.Intact(ds[1], "imagine") || !cc.Damaged(ds[1], "imagine") {
					t.Fatalf("a changed render: Has %v, Intact %v, Damaged %v", cc.Has(ds[1], "imagine"), cc.Intact(ds[1], "imagine"), cc.Damaged(ds[1], "imagine"))
				}
				if _, err := readCached(OpenCache(dir), ds[1], "imagine"); !errors.Is(err, ErrCacheCorrupt) {
					t.Fatalf("read of a changed render: %v", err)
				}
			} else {
				wantAbsent(t, cc, ds[1], "imagine")
			}
			keepT(t, cc, dir, ds[1], "imagine", ".png", contents[1])
			wantServed(t, cc, ds[1], "imagine", contents[1])
			cc.Close()
			wantServed(t, OpenCache(dir), ds[1], "imagine", contents[1])
		})
	}
}

// Two processes keep renders at once (a watch and an apply, two
// checkouts' runs): each appends to a pack of its own, and a third reads
// every render of both.
func TestCachePackTwoWriters(t *testing.T) {
	dir := t.TempDir()
	ds := digests(40)
	a, b := OpenCache(dir), OpenCache(dir)
	var wg sync.WaitGroup
	for i, d := range ds {
		c := a
		if i%2 == 1 {
			c = b
		}
		wg.Go(func() { keepT(t, c, dir, d, "imagine", ".png", "render "+d) })
	}
	wg.Wait()
	a.Close()
	b.Close()
	packs, loose := cacheFiles(t, dir)
	if len(packs) != 2 || len(loose) != 0 {
		t.Fatalf("packs %v, other files %v; want two packs", packs, loose)
	}
	r := OpenCache(dir)
	if n := len(r.Keys()); n != len(ds) {
		t.Fatalf("%d keys, want %d", n, len(ds))
	}
	for _, d := range ds {
		wantServed(t, r, d, "imagine", "render "+d)
	}
}

// A reader that lists the cache while a writer appends sees the renders
// appended before it listed, whole, and never a render not all written.
func TestCachePackReadWhileWriting(t *testing.T) {
	dir := t.TempDir()
	ds := digests(2)
	w := OpenCache(dir)
	keepT(t, w, dir, ds[0], "imagine", ".png", "first")
	r := OpenCache(dir)
	wantServed(t, r, ds[0], "imagine", "first")
	keepT(t, w, dir, ds[1], "imagine", ".png", "second")
	wantAbsent(t, r, ds[1], "imagine") // listed before it was kept
	wantServed(t, OpenCache(dir), ds[1], "imagine", "second")
	w.Close()
}

// A render kept by a later run replaces an earlier run's (in a pack or a
// loose file of an older pixform, which is removed), and a Cache closed
// and written again starts a new pack.
func TestCachePackReopen(t *testing.T) {
	dir := t.TempDir()
	ds := digests(3)
	// A loose file as an older pixform left it, and one it damaged.
	writeFileT(t, dir, filepath.Join(WorkDirName, cacheDirName, ds[2]+"-imagine-"+sha("loose")+".png"), "loose")
	writeFileT(t, dir, filepath.Join(WorkDirName, cacheDirName, ds[1]+"-imagine-"+sha("old loose")+".png"), "old loose")

	a := OpenCache(dir)
	wantServed(t, a, ds[2], "imagine", "loose")
	keepT(t, a, dir, ds[0], "imagine", ".png", "run 1")
	a.Close()
	b := OpenCache(dir)
	wantServed(t, b, ds[0], "imagine", "run 1")
	keepT(t, b, dir, ds[0], "imagine", ".png", "run 2")
	keepT(t, b, dir, ds[1], "imagine", ".png", "new")
	b.Close()
	keepT(t, b, dir, ds[0], "imagine", ".png", "run 2, again")
	b.Close()

	packs, loose := cacheFiles(t, dir)
	if len(packs) != 3 || len(loose) != 1 {
		t.Fatalf("packs %v, other files %v; want three packs and one loose file", packs, loose)
	}
	c := OpenCache(dir)
	wantServed(t, c, ds[0], "imagine", "run 2, again")
	wantServed(t, c, ds[1], "imagine", "new")
	wantServed(t, c, ds[2], "imagine", "loose")
	if n := len(c.Keys()); n != 3 {
		t.Fatalf("%d keys", n)
	}
}

// A pack is not the output's file, nor anything but a pack: a stranger
// named like one is ignored, as is a link.
func TestCachePackStrangers(t *testing.T) {
	dir := t.TempDir()
	ds := digests(1)
	keepT(t, OpenCache(dir), dir, ds[0], "imagine", ".png", "real")
	cdir := filepath.Join(dir, WorkDirName, cacheDirName)
	writeFileT(t, dir, filepath.Join(WorkDirName, cacheDirName, "pack-0-0"+packExt), "not a pack at all")
	writeFileT(t, dir, filepath.Join(WorkDirName, cacheDirName, "zzz"+packExt), packMagic)
	packs, _ := cacheFiles(t, dir)
	if err := os.Symlink(filepath.Join(cdir, packs[len(packs)-1]), filepath.Join(cdir, "pack-zzzz"+packExt)); err != nil {
		t.Fatal(err)
	}
	c := OpenCache(dir)
	wantServed(t, c, ds[0], "imagine", "real")
	if n := len(c.packs); n != 2 {
		t.Fatalf("%d packs read, want the real one and the empty one", n)
	}
}

// BenchmarkCacheLoad lists a cache of 10,000 renders, as the first lookup
// of a plan or an apply does: one pack's headers, or (as older pixform
// versions kept them) 10,000 loose files.
func BenchmarkCacheLoad(b *testing.B) {
	const n = 10000
	content := strings.Repeat("x", 1500)
	ds := make([]string, n)
	for i := range ds {
		ds[i] = Inputs{Prompt: "p", Seed: int64(i + 1)}.Digest()
	}
	for _, layout := range []string{"pack", "loose"} {
		b.Run(layout, func(b *testing.B) {
			dir := b.TempDir()
			switch layout {
			case "pack":
				c := OpenCache(dir)
				f, err := CreateTemp(filepath.Join(dir, "a.png"))
				if err != nil {
					b.Fatal(err)
				}
				f.WriteString(content)
				for _, d := range ds {
					if err := c.Keep(d, "imagine", f, ".png", sha(content)); err != nil {
						b.Fatal(err)
					}
				}
				AbortTemp(f)
				c.Close()
			case "loose":
				for _, d := range ds {
					writeFileT(b, dir, filepath.Join(WorkDirName, cacheDirName, d+"-imagine-"+sha(content)+".png"), content)
				}
			}
			b.ResetTimer()
			for b.Loop() {
				if c := OpenCache(dir); len(c.Keys()) != n {
					b.Fatal("keys lost")
				}
			}
		})
	}
}

// BenchmarkCacheKeep keeps renders of 1,500 bytes, as an apply does.
func BenchmarkCacheKeep(b *testing.B) {
	dir := b.TempDir()
	content := strings.Repeat("x", 1500)
	c := OpenCache(dir)
	f, err := CreateTemp(filepath.Join(dir, "a.png"))
	if err != nil {
		b.Fatal(err)
	}
	defer AbortTemp(f)
	f.WriteString(content)
	i := 0
	for b.Loop() {
		i++
		if err := c.Keep(Inputs{Prompt: "p", Seed: int64(i)}.Digest(), "imagine", f, ".png", sha(content)); err != nil {
			b.Fatal(err)
		}
	}
	c.Close()
}

// An append that fails midway (a source shorter than said, a full disk)
// is cut off again: the next render follows the last whole record, and
// the pack serves every render kept.
func TestCachePackFailedAppend(t *testing.T) {
	dir := t.TempDir()
	ds := digests(3)
	c := OpenCache(dir)
	keepT(t, c, dir, ds[0], "imagine", ".png", "first")
	packs, _ := cacheFiles(t, dir)
	pack := filepath.Join(dir, WorkDirName, cacheDirName, packs[0])
	before, _ := os.Stat(pack)
	f, err := CreateTemp(filepath.Join(dir, "out", "b.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer AbortTemp(f)
	f.WriteString("short")
	c.mu.Lock()
	k, _ := c.key(ds[1], "imagine")
	c.mu.Unlock()
	var sum [32]byte
	if _, err := c.appendRecord(k, sum, ".png", f, 5000); err == nil {
		t.Fatal("an append of more bytes than the source holds succeeded")
	}
	if after, _ := os.Stat(pack); after.Size() != before.Size() {
		t.Fatalf("the failed record is left: the pack grew from %d to %d bytes", before.Size(), after.Size())
	}
	keepT(t, c, dir, ds[2], "imagine", ".png", "third")
	c.Close()
	r := OpenCache(dir)
	wantServed(t, r, ds[0], "imagine", "first")
	wantAbsent(t, r, ds[1], "imagine")
	wantServed(t, r, ds[2], "imagine", "third")
}

// A Store closes the pack its cache appends to when it closes: a watch
// that applies on every save holds no pack open between applies.
func TestStoreClosesTheCachePack(t *testing.T) {
	dir := t.TempDir()
	c := OpenCache(dir)
	s := OpenStore(dir, &Lock{Images: map[addrs.Addr]Entry{}}, c)
	keepT(t, c, dir, digests(1)[0], "imagine", ".png", "render")
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.wmu.Lock()
	open := c.w != nil
	c.wmu.Unlock()
	if open {
		t.Fatal("the cache's pack is still open after the store closed")
	}
}
