package state

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/pixform/pixform/internal/nofollow"
)

// A pack is a file of the content cache that holds many renders, one
// record after another: what Put and Keep append to. One file per render
// costs a new inode and a directory entry each (about 75 µs an image on
// ext4, a fifth of an apply's CPU); a record is two writes to a file
// already open. A pack is still the cache's own copy of every render,
// never the output's file.
//
// Each Cache that keeps a render appends to a pack of its own, made on
// its first Keep (so two processes never write one pack), named
// pack-<time>-<random>.pack, its time after every pack's it read, so
// that a later one orders after (orderPacks): where two records hold one
// key, the later pack's, and in a pack the later record, is the render
// served. A record is
//
//	magic "PXR1" | data length (uint64) | inputs digest [32] | SHA-256 [32]
//	| provider length (uint8) | ext length (uint8) | provider | ext
//	| CRC-32C of the above (uint32) | data
//
// little-endian, after the file's own magic. Nothing is synced (the cache
// is rebuildable): a reader trusts a header only when its checksum holds
// and the file is long enough for its data; past one that is not (a torn
// tail, a run killed or the power lost mid-append, a damaged header) it
// looks for the next that is (resync); every read of the data checks its
// hash, as of a loose file. A record is never
// rewritten: one replaced (kept again, or found damaged and rendered
// again) stays as dead bytes in its pack.
const (
	packMagic   = "PXPACK1\n"
	packExt     = ".pack"
	recordMagic = "PXR1"
	// recordFixed is a record header's size without its provider
	// and extension.
	recordFixed = 4 + 8 + sha256.Size + sha256.Size + 2 + 4
	// maxRecordHeader bounds a header as a reader reads it.
	maxRecordHeader = recordFixed + 255 + 255
	// packSlack is how far ahead of the clock a pack's time may be and
	// still be ordered by it (a clock corrected backwards a little).
	packSlack = time.Hour
	// maxRecordSize bounds a record's data: the largest image pixform
	// accepts (config.MaxImageBytesLimit, the most max_image_bytes can
	// be; state does not import config). A longer one is not a run's.
	maxRecordSize = 1 << 30
	// openFlags opens a pack or a loose file to read (nofollow.OpenFile:
	// not through a link), and without blocking (a FIFO swapped in for one).
	openFlags = os.O_RDONLY | syscall.O_NONBLOCK
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func recordHeaderSize(provider, ext string) int { return recordFixed + len(provider) + len(ext) }

// appendRecordHeader appends the header of a record of size bytes to b.
func appendRecordHeader(b []byte, k cacheKey, sum [sha256.Size]byte, ext string, size int64) []byte {
	start := len(b)
	b = append(b, recordMagic...)
	b = binary.LittleEndian.AppendUint64(b, uint64(size))
	b = append(b, k.digest[:]...)
	b = append(b, sum[:]...)
	b = append(b, byte(len(k.provider)), byte(len(ext)))
	b = append(b, k.provider...)
	b = append(b, ext...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli))
}

// parseRecordHeader reads the header at the start of b: its length, its
// data's length, the key's digest, the hash, the provider and the
// extension; false when b does not start with a whole header whose
// checksum holds.
func parseRecordHeader(b []byte) (n int, size int64, digest, sum [sha256.Size]byte, provider, ext []byte, ok bool) {
	if len(b) < recordFixed || string(b[:4]) != recordMagic {
		return
	}
	pl, el := int(b[76]), int(b[77])
	n = recordFixed + pl + el
	if len(b) < n {
		return
	}
	if crc32.Checksum(b[:n-4], castagnoli) != binary.LittleEndian.Uint32(b[n-4:n]) {
		return
	}
	u := binary.LittleEndian.Uint64(b[4:12])
	if u > maxRecordSize {
		return
	}
	copy(digest[:], b[12:44])
	copy(sum[:], b[44:76])
	provider, ext = b[78:78+pl], b[78+pl:n-4]
	return n, int64(u), digest, sum, provider, ext, true
}

// isPackName reports whether a regular file of the cache directory may be
// a pack; its magic decides.
func isPackName(name string) bool {
	return strings.HasSuffix(name, packExt) && !strings.HasPrefix(name, ".")
}

// packTime is the time a pack named name was made, as newPack names it:
// pack-<time, 16 hex digits>-<random, 8 hex digits>.pack; false for any
// other name.
func packTime(name string) (int64, bool) {
	const n = len("pack-") + 16 + 1 + 8 + len(packExt)
	if len(name) != n || !strings.HasPrefix(name, "pack-") || !strings.HasSuffix(name, packExt) || name[21] != '-' {
		return 0, false
	}
	var b [12]byte
	if _, err := hex.Decode(b[:8], []byte(name[5:21])); err != nil {
		return 0, false
	}
	if _, err := hex.Decode(b[8:], []byte(name[22:30])); err != nil {
		return 0, false
	}
	t := binary.BigEndian.Uint64(b[:8])
	if t > 1<<62 {
		return 0, false
	}
	return int64(t), true
}

// orderPacks sorts the packs named into the order their records take
// effect in: a later one's record of a key replaces an earlier one's. The
// newest render must win for good (a render kept again, by apply
// -no-cache -replace, is how a damaged or poisoned copy is replaced), so
// a pack is ordered by the time in its name only where that time is one
// a new pack beats: newPack names its pack after the latest such time
// (never before it, whatever the clock says), and a pack whose name is
// not one newPack makes (pack-ffff…, pack-~, a stranger's) or whose time
// lies more than packSlack ahead of the clock (crafted, or made while the
// clock was far ahead) goes before every other, by name: its records
// still serve a key no other pack holds, and stay a candidate that
// Intact falls back to, but never hide a later render. It returns the
// latest time that orders a pack, 0 for none.
func orderPacks(names []string, now int64) int64 {
	var latest int64
	limit := now + int64(packSlack)
	rank := func(name string) (bool, int64) {
		t, ok := packTime(name)
		return ok && t <= limit, t
	}
	for _, n := range names {
		if ok, t := rank(n); ok {
			latest = max(latest, t)
		}
	}
	slices.SortFunc(names, func(a, b string) int {
		aok, at := rank(a)
		bok, bt := rank(b)
		switch {
		case aok != bok:
			if aok {
				return 1
			}
			return -1
		case aok && at != bt:
			return cmp.Compare(at, bt)
		}
		return strings.Compare(a, b)
	})
	return latest
}

// loadPacks reads the packs named (regular files of the cache
// directory), in orderPacks' order, into c.entries: the later record of
// a key replaces the earlier. The caller is c.load.
func (c *Cache) loadPacks(names []string) {
	c.latest = orderPacks(names, time.Now().UnixNano())
	r := packReader{hdr: make([]byte, maxRecordHeader), budget: maxResync}
	for _, name := range names {
		c.loadPack(name, &r)
	}
}

// maxResync bounds the bytes a load of the cache reads, over all its
// packs, looking for a header after one that is damaged.
const maxResync = 256 << 20

// packReader holds what loadPack reads a pack's headers with: a header's
// buffer, the buffer resync scans with (made on first use), and what is
// left of maxResync.
type packReader struct {
	hdr, scan []byte
	budget    int64
}

// header reads the header of the record at off of f, a pack of end
// bytes: see parseRecordHeader; false too when its data would run past
// end (a torn tail).
func (r *packReader) header(f *os.File, off, end int64) (n int, size int64, digest, sum [sha256.Size]byte, provider, ext []byte, ok bool) {
	b := r.hdr[:min(int64(len(r.hdr)), end-off)]
	if _, err := f.ReadAt(b, off); err != nil && !errors.Is(err, io.EOF) {
		return
	}
	n, size, digest, sum, provider, ext, ok = parseRecordHeader(b)
	if !ok || size > end-off-int64(n) {
		ok = false
	}
	return
}

// resync is the offset of the first record of f (a pack of end bytes)
// at or after from whose header holds (its magic, its checksum, its data
// within the pack), after a header that does not: a bit flipped in one
// header costs that render only, not every one after it. A header found
// so can be one inside another record's data (an image that holds a
// pack); that is safe, as every read checks the data's hash. False when
// there is none, or when the load's budget for this is spent.
func (r *packReader) resync(f *os.File, from, end int64) (int64, bool) {
	if r.scan == nil {
		r.scan = make([]byte, 64<<10)
	}
	for end-from >= recordFixed && r.budget > 0 {
		b := r.scan[:min(int64(len(r.scan)), end-from)]
		if _, err := f.ReadAt(b, from); err != nil && !errors.Is(err, io.EOF) {
			return 0, false
		}
		r.budget -= int64(len(b))
		for i := 0; ; {
			j := bytes.Index(b[i:], []byte(recordMagic))
			if j < 0 {
				break
			}
			if _, _, _, _, _, _, ok := r.header(f, from+int64(i+j), end); ok {
				return from + int64(i+j), true
			}
			i += j + 1
		}
		// The next window starts where a magic cut off by this
		// one's end begins.
		from += int64(len(b) - (len(recordMagic) - 1))
	}
	return 0, false
}

func (c *Cache) loadPack(name string, r *packReader) {
	buf := r.hdr
	f, end, err := openRegular(filepath.Join(c.dir, name))
	if err != nil {
		return
	}
	defer f.Close()
	if end < int64(len(packMagic)) {
		return
	}
	if _, err := f.ReadAt(buf[:len(packMagic)], 0); err != nil || string(buf[:len(packMagic)]) != packMagic {
		return
	}
	c.packs = append(c.packs, name)
	c.packBytes += end - int64(len(packMagic))
	pack := int32(len(c.packs))
	off := int64(len(packMagic))
	for end-off >= recordFixed {
		n, size, digest, sum, provider, ext, ok := r.header(f, off, end)
		if !ok { // torn or damaged: its lengths are not trusted
			next, found := r.resync(f, off+1, end)
			if !found {
				return
			}
			off = next
			continue
		}
		e, eok := cacheExt(string(ext))
		if eok && isCacheExt(e) && validProviderName(string(provider)) {
			k := cacheKey{digest: digest, provider: c.intern(provider)}
			c.add(k, cacheFile{sum: sum, ext: e, pack: pack, off: off + int64(n), size: size})
		}
		c.packRecords++
		off += int64(n) + size
	}
}

// intern is the interned provider name p. The caller holds c.mu or is
// c.load.
func (c *Cache) intern(p []byte) string {
	if s, ok := c.providers[string(p)]; ok {
		return s
	}
	s := string(p)
	c.providers[s] = s
	return s
}

// packPath is the path of the pack f's render is in; "" for a loose
// file. The caller holds c.mu.
func (c *Cache) packPath(f cacheFile) string {
	if f.pack == 0 {
		return ""
	}
	return filepath.Join(c.dir, c.packs[f.pack-1])
}

// openCached opens the bytes of the render f cached under k: a section
// of its pack, or its loose file.
func (c *Cache) openCached(k cacheKey, f cacheFile) (io.ReadCloser, string, error) {
	if c.beforeOpen != nil {
		c.beforeOpen()
	}
	c.mu.Lock()
	p := c.packPath(f)
	c.mu.Unlock()
	loose := p == ""
	if loose {
		p = filepath.Join(c.dir, f.name(k))
	}
	file, _, err := openRegular(p)
	if err != nil {
		return nil, p, err
	}
	if loose {
		return file, p, nil
	}
	return sectionCloser{io.NewSectionReader(file, f.off, f.size), file}, p, nil
}

// openRegular opens the regular file at p to read (openFlags), and
// returns its size; an error for anything else (a link, a FIFO, a
// directory).
func openRegular(p string) (*os.File, int64, error) {
	f, err := nofollow.OpenFile(p, openFlags, 0)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("not a regular file")
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

type sectionCloser struct {
	*io.SectionReader
	f *os.File
}

func (s sectionCloser) Close() error { return s.f.Close() }

// appendRecord appends the first size bytes of in, whose SHA-256 is sum,
// to this Cache's pack as the render of k, making the pack on first use,
// and returns where it is. A record that could not be written whole is
// cut off again; where even that fails the pack is left (its tail is
// torn, which readers ignore) and the next render starts another. A pack
// that reached the file size limit (EFBIG: ulimit -f) is left too, and
// the render appended to a new one.
func (c *Cache) appendRecord(k cacheKey, sum [sha256.Size]byte, ext string, in *os.File, size int64) (cacheFile, error) {
	if size > maxRecordSize {
		return cacheFile{}, fmt.Errorf("%d bytes is more than an image pixform accepts (%d MiB)", size, maxRecordSize>>20)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	f, err := c.appendLocked(k, sum, ext, in, size)
	if errors.Is(err, syscall.EFBIG) && c.w != nil && c.wend > int64(len(packMagic)) {
		c.w.Close()
		c.w = nil
		f, err = c.appendLocked(k, sum, ext, in, size)
	}
	return f, err
}

// appendLocked is appendRecord's append. The caller holds c.wmu.
func (c *Cache) appendLocked(k cacheKey, sum [sha256.Size]byte, ext string, in *os.File, size int64) (cacheFile, error) {
	if c.w == nil {
		if err := c.newPack(); err != nil {
			return cacheFile{}, err
		}
	}
	start := c.wend
	hdr := appendRecordHeader(c.hdr[:0], k, sum, ext, size)
	c.hdr = hdr
	_, err := c.w.WriteAt(hdr, start)
	if err == nil {
		err = copyFileTo(c.w, start+int64(len(hdr)), in, size)
	}
	if err != nil {
		name := c.w0
		if terr := c.w.Truncate(start); terr != nil {
			c.w.Close()
			c.w = nil
		}
		return cacheFile{}, fmt.Errorf("append to %s: %w", name, err)
	}
	c.wend = start + int64(len(hdr)) + size
	c.packBytes += int64(len(hdr)) + size
	c.packRecords++
	return cacheFile{sum: sum, ext: ext, pack: c.wpack, off: start + int64(len(hdr)), size: size}, nil
}

// newPack makes this Cache's pack. The caller holds c.wmu.
func (c *Cache) newPack() error {
	var rnd [4]byte
	for range 8 {
		rand.Read(rnd[:])
		// After every pack read (orderPacks): its records win.
		t := max(time.Now().UnixNano(), c.latest+1)
		name := fmt.Sprintf("pack-%016x-%s%s", t, hex.EncodeToString(rnd[:]), packExt)
		p := filepath.Join(c.dir, name)
		f, err := nofollow.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return err
		}
		if _, err := f.WriteAt([]byte(packMagic), 0); err != nil {
			f.Close()
			os.Remove(p)
			return err
		}
		c.mu.Lock()
		c.latest = t
		c.packs = append(c.packs, name)
		c.wpack = int32(len(c.packs))
		c.mu.Unlock()
		c.w, c.w0, c.wend = f, p, int64(len(packMagic))
		return nil
	}
	return fmt.Errorf("create a pack in %s: %w", c.dir, fs.ErrExist)
}

// Close closes the pack this Cache appends to, if it made one. The Cache
// stays usable: a later Keep starts another pack.
func (c *Cache) Close() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.w == nil {
		return nil
	}
	err := c.w.Close()
	c.w = nil
	return err
}

// packGone reports whether err, of opening the render f, says that f's
// pack is gone: removed by a compaction after the Cache listed it.
func packGone(f cacheFile, err error) bool {
	return f.pack != 0 && errors.Is(err, fs.ErrNotExist)
}

// relist lists the cache directory again, after a pack listed in gen was
// found gone: a compaction (another process's, which holds the working
// directory's lock while this reader holds none) wrote every render it
// served into a new pack, which this listing finds. Nothing is done when
// the renders moved since gen (listed again already, or this Cache's own
// compaction, whose entries follow it). The packs listed before keep
// their numbers (a reader may hold a cacheFile of one): the new listing's
// are added after them.
func (c *Cache) relist(gen int) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	moved := c.gen != gen
	c.mu.Unlock()
	if moved {
		return
	}
	fresh := &Cache{root: c.root, dir: c.dir}
	fresh.load()
	c.mu.Lock()
	defer c.mu.Unlock()
	base := int32(len(c.packs))
	renumber := func(f cacheFile) cacheFile {
		if f.pack != 0 {
			f.pack += base
		}
		return f
	}
	for k, f := range fresh.entries {
		fresh.entries[k] = renumber(f)
	}
	for k, o := range fresh.older {
		for i := range o {
			o[i] = renumber(o[i])
		}
		fresh.older[k] = o
	}
	c.packs = append(c.packs, fresh.packs...)
	c.entries, c.older, c.checked = fresh.entries, fresh.older, nil
	for p := range fresh.providers {
		if _, ok := c.providers[p]; !ok {
			c.providers[p] = p
		}
	}
	c.latest = max(c.latest, fresh.latest)
	c.packBytes, c.packRecords = fresh.packBytes, fresh.packRecords
	c.gen++
}
