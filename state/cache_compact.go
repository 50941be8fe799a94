package state

import (
	"cmp"
	"crypto/sha256"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/pixform/pixform/internal/nofollow"
)

// A pack's records are never rewritten, so a render kept again (apply
// -no-cache, -replace) leaves its older record dead in its pack, and the
// cache (which CI keeps between runs) would grow without bound. compact
// writes the records still served into one new pack and removes the
// packs it read, once dead bytes are more than half the packs' and more
// than compactFloor (or compactRecords dead records): a few times over
// the cache's life, never a cost per image (whether to is counted from
// what load and Keep already know).
//
// Only a Store's Close calls it, and every command that opens a Store
// (apply, watch, pick, approve, pull) holds the working directory's
// lock, so no other process appends to a pack meanwhile. A reader
// without the lock (plan, the gallery) that holds a pack open still
// reads it once it is removed (Unix keeps an open file), and one that
// lists the cache afterwards finds every served record in the new pack:
// a plan that promised a restore still finds its render. A reader that
// listed the cache before and opens a removed pack only after finds it
// gone, lists the cache again (relist) and reads the render from the new
// pack: a compaction never turns a cached render into a request.
const (
	compactFloor   = 16 << 20
	compactRecords = 1000
)

// compact compacts the cache's packs when dead records call for it (see
// above). Best effort: the cache is rebuildable, and a failure leaves
// the packs as they were.
func (c *Cache) compact() {
	if !c.loaded.Load() {
		return
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.w != nil {
		c.w.Close()
		c.w = nil
	}
	c.mu.Lock()
	var live, liveRecs int64
	for k, f := range c.entries {
		if intact, known := c.checked[k]; f.pack != 0 && (!known || intact) {
			live += int64(recordHeaderSize(k.provider, f.ext)) + f.size
			liveRecs++
		}
	}
	dead, deadRecs := c.packBytes-live, c.packRecords-liveRecs
	if dead*2 <= c.packBytes || (dead <= compactFloor && deadRecs <= compactRecords) {
		c.mu.Unlock()
		return
	}
	type rec struct {
		k     cacheKey
		cands []cacheFile // newest first
	}
	recs := make([]rec, 0, liveRecs)
	for k, f := range c.entries {
		if f.pack == 0 {
			continue
		}
		cands := []cacheFile{f}
		for i := len(c.older[k]) - 1; i >= 0; i-- {
			if o := c.older[k][i]; o.pack != 0 {
				cands = append(cands, o)
			}
		}
		recs = append(recs, rec{k, cands})
	}
	old := slices.Clone(c.packs)
	c.mu.Unlock()

	// In the order of the packs' bytes: one read through each.
	slices.SortFunc(recs, func(a, b rec) int {
		return cmp.Or(cmp.Compare(a.cands[0].pack, b.cands[0].pack), cmp.Compare(a.cands[0].off, b.cands[0].off))
	})
	if err := c.newPack(); err != nil {
		return
	}
	buf := make([]byte, 256<<10)
	moved := make(map[cacheKey]cacheFile, len(recs))
	files := map[int32]*os.File{}
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	// abort gives up on a failure that is not a damaged record (the disk
	// full, out of descriptors, a read error): the packs read are kept,
	// every render in them, and the new pack is emptied, its space given
	// back, for a later compaction to remove.
	abort := func() {
		c.packBytes -= c.wend - int64(len(packMagic))
		c.w.Truncate(int64(len(packMagic)))
		c.w.Close()
		c.w = nil
	}
	for _, r := range recs {
		for _, f := range r.cands {
			src := files[f.pack]
			if src == nil {
				var err error
				if src, err = nofollow.OpenFile(filepath.Join(c.dir, old[f.pack-1]), openFlags, 0); errors.Is(err, fs.ErrNotExist) {
					continue // gone, its renders with it
				} else if err != nil {
					abort()
					return
				}
				files[f.pack] = src
			}
			nf, ok, err := c.copyRecord(r.k, f, src, buf)
			if err != nil {
				abort()
				return
			}
			if ok {
				moved[r.k] = nf
				break
			}
		}
	}
	// The new pack holds every render served before the old ones go.
	if err := c.w.Sync(); err != nil {
		abort()
		return
	}
	c.mu.Lock()
	if c.checked == nil {
		c.checked = map[cacheKey]bool{}
	}
	for k, o := range c.older {
		if o = slices.DeleteFunc(slices.Clone(o), func(f cacheFile) bool { return f.pack != 0 }); len(o) > 0 {
			c.older[k] = o
		} else {
			delete(c.older, k)
		}
	}
	for k, f := range c.entries {
		if f.pack == 0 {
			continue
		}
		delete(c.checked, k)
		if nf, ok := moved[k]; ok {
			c.entries[k] = nf
			c.checked[k] = true
		} else if o := c.older[k]; len(o) > 0 { // a loose file, the newest
			c.entries[k] = o[len(o)-1]
			if c.older[k] = o[:len(o)-1]; len(o) == 1 {
				delete(c.older, k)
			}
		} else {
			delete(c.entries, k) // no copy left that hashes right
		}
	}
	c.packBytes, c.packRecords = c.wend-int64(len(packMagic)), int64(len(moved))
	c.gen++
	c.mu.Unlock()
	// Windows removes no file that a handle without FILE_SHARE_DELETE
	// holds (every os.Open's): the packs read are closed first.
	for i, f := range files {
		f.Close()
		delete(files, i)
	}
	for _, name := range old {
		os.Remove(filepath.Join(c.dir, name))
	}
}

// copyRecord appends the render f of k, read from src (its pack), to
// this Cache's pack when its bytes hash right; false, and nothing
// appended, when they do not (a damaged record). An error is a failure to
// read or write (nothing appended either), which is no verdict on the
// record. The caller holds c.wmu, and c.w is open.
func (c *Cache) copyRecord(k cacheKey, f cacheFile, src *os.File, buf []byte) (cacheFile, bool, error) {
	start := c.wend
	hdr := appendRecordHeader(c.hdr[:0], k, f.sum, f.ext, f.size)
	c.hdr = hdr
	if _, err := c.w.WriteAt(hdr, start); err != nil {
		c.w.Truncate(start)
		return cacheFile{}, false, err
	}
	h := sha256.New()
	n, err := io.CopyBuffer(io.MultiWriter(io.NewOffsetWriter(c.w, start+int64(len(hdr))), h), io.NewSectionReader(src, f.off, f.size), buf)
	if err != nil {
		c.w.Truncate(start)
		return cacheFile{}, false, err
	}
	var got [sha256.Size]byte
	if n != f.size || [sha256.Size]byte(h.Sum(got[:0])) != f.sum {
		c.w.Truncate(start)
		return cacheFile{}, false, nil
	}
	c.wend = start + int64(len(hdr)) + f.size
	c.packBytes += int64(len(hdr)) + f.size
	return cacheFile{sum: f.sum, ext: f.ext, pack: c.wpack, off: start + int64(len(hdr)), size: f.size}, true, nil
}
