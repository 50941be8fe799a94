package state

import (
	"crypto/sha256"
	"encoding/hex"
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
