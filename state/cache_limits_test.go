package state

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A record longer than any image pixform accepts (max_image_bytes is at
// most 1 GiB) is not one a run wrote: it is not served, nor read.
func TestCachePackRecordTooLong(t *testing.T) {
	dir := t.TempDir()
	ds := digests(2)
	var k cacheKey
	hex.Decode(k.digest[:], []byte(ds[0]))
	k.provider = "imagine"
	b := appendRecordHeader([]byte(packMagic), k, sha256.Sum256(nil), ".png", maxRecordSize+1)
	cdir := filepath.Join(dir, WorkDirName, cacheDirName)
	os.MkdirAll(cdir, 0o755)
	p := filepath.Join(cdir, "pack-0000000000000001-00000000"+packExt)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, int64(len(b))+maxRecordSize+1); err != nil { // sparse
		t.Skip(err)
	}
	c := OpenCache(dir)
	if c.Has(ds[0], "imagine") {
		t.Fatal("a record of more than 1 GiB is served")
	}
}

// A pack swapped for a FIFO after the cache was listed does not hang
// the reader: packs are opened without blocking, and a file that is not
// a regular one is not read.
func TestCachePackFIFO(t *testing.T) {
	dir := t.TempDir()
	ds := digests(1)
	w := OpenCache(dir)
	keepT(t, w, dir, ds[0], "imagine", ".png", "render")
	w.Close()
	packs, _ := cacheFiles(t, dir)
	p := filepath.Join(dir, WorkDirName, cacheDirName, packs[0])
	c := OpenCache(dir)
	c.load()
	os.Remove(p)
	if err := mkfifo(t, p, 0o644); err != nil {
		t.Skip(err)
	}
	done := make(chan bool)
	go func() { done <- c.Intact(ds[0], "imagine") }()
	select {
	case intact := <-done:
		if intact {
			t.Fatal("a FIFO is Intact")
		}
	case <-time.After(20 * time.Second):
		// Let the open return: a writer.
		f, _ := os.OpenFile(p, os.O_WRONLY, 0)
		f.Close()
		<-done
		t.Fatal("Intact of a pack swapped for a FIFO blocked")
	}
}
