package state

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// writePackT writes a pack named name into dir's cache holding, for each
// of digests by imagine, a record of content whose header says the hash
// of recorded (a damaged copy where they differ).
func writePackT(t *testing.T, dir, name string, digests []string, content, recorded string) {
	t.Helper()
	b := []byte(packMagic)
	for _, d := range digests {
		var k cacheKey
		hex.Decode(k.digest[:], []byte(d))
		k.provider = "imagine"
		b = appendRecordHeader(b, k, sha256.Sum256([]byte(recorded)), ".png", int64(len(content)))
		b = append(b, content...)
	}
	cdir := filepath.Join(dir, WorkDirName, cacheDirName)
	if err := os.MkdirAll(cdir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cdir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A pack whose name sorts after every pack a run makes (crafted, or made
// while the clock was ahead) never beats a later render: a render kept
// again (apply -no-cache -replace) is the one served by every later run,
// so a damaged or poisoned copy does not survive it.
func TestCachePackLaterRenderWins(t *testing.T) {
	ahead := fmt.Sprintf("pack-%016x-00000000%s", time.Now().Add(48*time.Hour).UnixNano(), packExt)
	for _, name := range []string{"pack-ffffffffffffffff-00000000" + packExt, "pack-~" + packExt, "zzz" + packExt, ahead} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			ds := digests(1)
			keepT(t, OpenCache(dir), dir, ds[0], "imagine", ".png", "first")
			writePackT(t, dir, name, ds, "poisoned", "poisoned")
			c := OpenCache(dir)
			keepT(t, c, dir, ds[0], "imagine", ".png", "again")
			wantServed(t, c, ds[0], "imagine", "again")
			c.Close()
			wantServed(t, OpenCache(dir), ds[0], "imagine", "again")
			// and a third run, whose pack follows the second's.
			c = OpenCache(dir)
			keepT(t, c, dir, ds[0], "imagine", ".png", "third")
			c.Close()
			wantServed(t, OpenCache(dir), ds[0], "imagine", "third")
		})
	}
}

// A pack made while the clock was a little ahead (within packSlack) is
// followed: the next run names its pack after it, so the next run's
// render still wins once the clock is back.
func TestCachePackNamedAfterTheNewest(t *testing.T) {
	dir := t.TempDir()
	ds := digests(1)
	name := fmt.Sprintf("pack-%016x-00000000%s", time.Now().Add(packSlack/2).UnixNano(), packExt)
	writePackT(t, dir, name, ds, "ahead", "ahead")
	c := OpenCache(dir)
	wantServed(t, c, ds[0], "imagine", "ahead")
	keepT(t, c, dir, ds[0], "imagine", ".png", "later")
	c.Close()
	wantServed(t, OpenCache(dir), ds[0], "imagine", "later")
}

// A damaged render does not hide an intact copy of its key kept before
// it (in an earlier pack, an earlier record of its pack, or a loose file
// of an older pixform): Intact, Info and Open fall back to the newest
// copy that hashes right, so a plan restores it without a request.
func TestCacheFallsBackToAnIntactCopy(t *testing.T) {
	ds := digests(1)
	loose := filepath.Join(WorkDirName, cacheDirName, ds[0]+"-imagine-"+sha("loose")+".png")
	later := fmt.Sprintf("pack-%016x-00000000%s", time.Now().Add(time.Minute).UnixNano(), packExt)
	tests := map[string]struct {
		setup func(t *testing.T, dir string)
		want  string // "": none intact
	}{
		"an earlier pack": {func(t *testing.T, dir string) {
			keepT(t, OpenCache(dir), dir, ds[0], "imagine", ".png", "intact")
			writePackT(t, dir, later, ds, "damaged", "as recorded")
		}, "intact"},
		"a loose file": {func(t *testing.T, dir string) {
			writeFileT(t, dir, loose, "loose")
			writePackT(t, dir, later, ds, "damaged", "as recorded")
		}, "loose"},
		"the newest of two intact": {func(t *testing.T, dir string) {
			writeFileT(t, dir, loose, "loose")
			keepT(t, OpenCache(dir), dir, ds[0], "imagine", ".png", "intact")
			writePackT(t, dir, later, ds, "damaged", "as recorded")
		}, "intact"},
		"an earlier record of the pack": {func(t *testing.T, dir string) {
			c := OpenCache(dir)
			keepT(t, c, dir, ds[0], "imagine", ".png", "intact")
			keepT(t, c, dir, ds[0], "imagine", ".png", "second")
			c.Close()
			pack, recs := packRecords(t, dir, ds)
			f, _ := os.OpenFile(pack, os.O_RDWR, 0)
			f.WriteAt([]byte("X"), recs[0][1])
			f.Close()
		}, "intact"},
		"none intact": {func(t *testing.T, dir string) {
			writeFileT(t, dir, loose, "loose, changed")
			writePackT(t, dir, later, ds, "damaged", "as recorded")
		}, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			tc.setup(t, dir)
			if tc.want == "" {
				c := OpenCache(dir)
				if c.Intact(ds[0], "imagine") || !c.Damaged(ds[0], "imagine") {
					t.Fatal("no intact copy, yet Intact or not Damaged")
				}
				if _, err := readCached(OpenCache(dir), ds[0], "imagine"); !errors.Is(err, ErrCacheCorrupt) {
					t.Fatalf("read: %v", err)
				}
				return
			}
			// Open first, as an apply's restore does, then Intact first.
			if got, err := readCached(OpenCache(dir), ds[0], "imagine"); err != nil || got != tc.want {
				t.Fatalf("Open read %q, %v; want %q", got, err, tc.want)
			}
			// Intact first, as a plan asks before Info.
			c := OpenCache(dir)
			if !c.Intact(ds[0], "imagine") {
				t.Fatal("not Intact")
			}
			wantServed(t, c, ds[0], "imagine", tc.want)
		})
	}
}

// A damaged header costs its own render only: the reader finds the next
// record whose header's checksum holds, and serves every render after it
// (a bit flipped in the second of 10 records once cost 9 requests).
func TestCachePackResync(t *testing.T) {
	ds := digests(10)
	tests := map[string]func(recs [][3]int64) int64{
		"magic":       func(r [][3]int64) int64 { return r[1][0] },
		"length":      func(r [][3]int64) int64 { return r[1][0] + 5 },
		"length, top": func(r [][3]int64) int64 { return r[1][0] + 11 },
		"key":         func(r [][3]int64) int64 { return r[1][0] + 20 },
		"checksum":    func(r [][3]int64) int64 { return r[1][1] - 1 },
		"next magic":  func(r [][3]int64) int64 { return r[2][0] + 1 },
	}
	for name, at := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			pack, recs := packT(t, dir, ds, func(i int) string { return "render " + ds[i] })
			off := at(recs)
			flipT(t, pack, off, 0x10)
			cc := OpenCache(dir)
			lost := 0
			for i, d := range ds {
				if off >= recs[i][0] && off < recs[i][1] {
					wantAbsent(t, cc, d, "imagine")
					lost++
					continue
				}
				wantServed(t, cc, d, "imagine", "render "+d)
			}
			if lost != 1 {
				t.Fatalf("%d renders lost", lost)
			}
		})
	}
}
