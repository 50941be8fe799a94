package state

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pixform/pixform/internal/nofollow"
	"github.com/pixform/pixform/media"
)

// cacheDirName is the content cache inside .pixform/.
const cacheDirName = "cache"

// CacheInfo describes one cached render.
type CacheInfo struct {
	// SHA256 is the lower-case hex hash of the cached bytes.
	SHA256 string
	// Ext is the file's extension, with its dot (".png", ".jpg").
	Ext string
}

// Cache is the local content cache: finished renders kept under
// .pixform/cache, so that an image whose inputs come back (an undo, a
// branch switch) is restored without a request. A render is a record of a
// pack (cache_pack.go), which records its key and hash, or, as older
// pixform versions kept them, a file of its own named
// <inputs digest>-<provider>-<sha256><ext>; Open checks the hash either
// way. The directory is listed, and its packs' headers read, once, on
// first use. A Cache is safe for concurrent use; Close closes the pack it
// appends to.
type Cache struct {
	root string // the working directory
	dir  string // .pixform/cache

	once    sync.Once
	mu      sync.Mutex
	entries map[cacheKey]cacheFile
	// older holds, for a key cached more than once, the renders its
	// entry replaced (older records, loose files), oldest first, at most
	// maxOlder: the copies Intact falls back to, newest first, when the
	// entry's bytes no longer hash right. Most keys have none.
	older map[cacheKey][]cacheFile
	// providers interns the provider names of entries: a run has one or
	// two, and a key must not keep alive the string it was cut from.
	providers map[string]string

	made    sync.Once
	madeErr error // of creating .pixform/ and the cache directory

	// checked holds, by key, what Intact found of the file cached
	// under it since it was recorded: true when its bytes hash to the
	// hash its name records, false when they do not.
	checked map[cacheKey]bool

	// packs names the packs read and made, by cacheFile.pack - 1;
	// latest is the latest time that orders one (orderPacks), which a
	// new pack's name follows. Under mu (latest: or wmu, after load).
	packs  []string
	latest int64
	// loaded is set once load has read the directory.
	loaded atomic.Bool
	// gen counts the changes of where the renders are: a listing again
	// (relist), a compaction. Under mu.
	gen int
	// beforeOpen, when set (by tests), runs as a cached render is
	// opened, after its lookup.
	beforeOpen func()

	// The pack this Cache appends to, made on its first render: its
	// file, path, index in packs (1-based) and end; hdr is the buffer
	// of a record's header. Under wmu.
	wmu   sync.Mutex
	w     *os.File
	w0    string
	wpack int32
	wend  int64
	hdr   []byte
	// packBytes and packRecords count the bytes (after each pack's
	// magic) and records of the packs read and written, for compact.
	// Under wmu (load counts them before any append).
	packBytes, packRecords int64
}

// maxOlder bounds the older copies kept of one key (a crafted pack of
// many records of one key costs no more than that many reads).
const maxOlder = 8

// add notes f as the render cached under k, a copy newer than the one
// held (which becomes an older copy). The caller holds c.mu or is
// c.load.
func (c *Cache) add(k cacheKey, f cacheFile) {
	if old, had := c.entries[k]; had {
		c.addOlder(k, old)
	}
	c.entries[k] = f
}

// addOlder adds f to k's older copies, dropping the oldest past
// maxOlder. The slice is never changed in place (Intact reads a copy).
func (c *Cache) addOlder(k cacheKey, f cacheFile) {
	if c.older == nil {
		c.older = map[cacheKey][]cacheFile{}
	}
	o := c.older[k]
	if len(o) >= maxOlder {
		o = slices.Clone(o[len(o)-maxOlder+1:])
	}
	c.older[k] = append(o, f)
}

// cacheKey is a cached render's key (CacheKey) as the cache holds it: the
// inputs digest in binary and the interned provider name, so that a run of
// many images keeps no key string per image.
type cacheKey struct {
	digest   [sha256.Size]byte
	provider string
}

// cacheFile is what the cache holds of one cached render: its hash in
// binary and its extension (one of media's, shared), from which, with its
// key, a loose file's name follows (name), so that a run of many images
// keeps no name nor hex hash per image; and for a render in a pack, the
// pack (its index in Cache.packs, plus one; 0 for a loose file) and
// where its bytes are in it.
type cacheFile struct {
	sum  [sha256.Size]byte
	ext  string
	pack int32
	off  int64
	size int64
}

// info is f as Info returns it.
func (f cacheFile) info() CacheInfo {
	return CacheInfo{SHA256: hex.EncodeToString(f.sum[:]), Ext: f.ext}
}

// name is the file name of the render cached under k:
// DIGEST-PROVIDER-SHA256.EXT, as Put names it and parseCacheName reads it.
func (f cacheFile) name(k cacheKey) string {
	return hex.EncodeToString(k.digest[:]) + "-" + k.provider + "-" + hex.EncodeToString(f.sum[:]) + f.ext
}

// key returns the cacheKey of digest and provider, and false when digest
// is not a SHA-256 in lower-case hex (nothing is cached under it). The
// caller holds c.mu.
func (c *Cache) key(digest, provider string) (cacheKey, bool) {
	var k cacheKey
	if !validSHA256(digest) {
		return k, false
	}
	hex.Decode(k.digest[:], []byte(digest))
	p, ok := c.providers[provider]
	if !ok {
		p = strings.Clone(provider)
		c.providers[p] = p
	}
	k.provider = p
	return k, true
}

// file returns the cacheFile of info, false when its hash is not a
// SHA-256 in lower-case hex or its extension not an image's.
func file(info CacheInfo) (cacheFile, bool) {
	var f cacheFile
	if !validSHA256(info.SHA256) {
		return f, false
	}
	hex.Decode(f.sum[:], []byte(info.SHA256))
	ext, ok := cacheExt(info.Ext)
	f.ext = ext
	return f, ok && isCacheExt(ext)
}

// OpenCache returns the content cache of the working directory dir. It does
// no I/O until first used.
func OpenCache(dir string) *Cache {
	return &Cache{root: dir, dir: filepath.Join(dir, WorkDirName, cacheDirName)}
}

// CacheKey is the key Keys uses for a render: digest + "/" + provider.
func CacheKey(digest, provider string) string { return digest + "/" + provider }

// load lists the cache directory once, loose files first, then the packs
// in the order they were made: a render in a pack replaces a loose file
// of the same key. A missing or unreadable directory is an empty cache:
// the cache is an optimisation only. So is one reached through a symbolic
// link, which is never listed (mkdir then refuses it).
func (c *Cache) load() {
	c.once.Do(func() {
		c.entries = map[cacheKey]cacheFile{}
		c.providers = map[string]string{}
		if _, ok, err := workSubDir(c.root, cacheDirName); err != nil || !ok {
			return
		}
		des, _ := os.ReadDir(c.dir)
		var packs []string
		for _, de := range des {
			if !de.Type().IsRegular() {
				continue
			}
			if isPackName(de.Name()) {
				packs = append(packs, de.Name())
				continue
			}
			if digest, provider, info, ok := parseCacheName(de.Name()); ok {
				k, kok := c.key(digest, provider)
				f, fok := file(info)
				if kok && fok {
					c.add(k, f)
				}
			}
		}
		c.loadPacks(packs)
		c.loaded.Store(true)
	})
}

// mkdir creates .pixform/ (with its .gitignore) and the cache directory,
// once per Cache: Put runs once per image of an apply.
func (c *Cache) mkdir() error {
	c.made.Do(func() {
		_, c.madeErr = ensureWorkSubDir(c.root, cacheDirName)
	})
	return c.madeErr
}

// parseCacheName splits "<digest>-<provider>-<sha256><ext>".
func parseCacheName(name string) (digest, provider string, info CacheInfo, ok bool) {
	ext := filepath.Ext(name)
	base := strings.TrimSuffix(name, ext)
	if len(base) < 64+1+1+1+64 || !isCacheExt(ext) {
		return "", "", CacheInfo{}, false
	}
	digest, sum := base[:64], base[len(base)-64:]
	mid := base[64 : len(base)-64]
	if !validSHA256(digest) || !validSHA256(sum) || len(mid) < 3 || mid[0] != '-' || mid[len(mid)-1] != '-' {
		return "", "", CacheInfo{}, false
	}
	provider = mid[1 : len(mid)-1]
	if !validProviderName(provider) {
		return "", "", CacheInfo{}, false
	}
	return digest, provider, CacheInfo{SHA256: sum, Ext: ext}, true
}

// cacheExt returns ext, when isCacheExt accepts it, as a constant string:
// a cacheFile holds that, not a copy cut from a file name.
func cacheExt(ext string) (string, bool) {
	switch ext {
	case ".png":
		return ".png", true
	case ".jpg":
		return ".jpg", true
	case ".jpeg":
		return ".jpeg", true
	}
	return "", false
}

func isCacheExt(ext string) bool {
	_, ok := media.OfExt(ext)
	return ok
}

func validProviderName(p string) bool {
	if p == "" {
		return false
	}
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// Has reports whether a render of these inputs by provider is cached.
func (c *Cache) Has(digest, provider string) bool {
	_, ok := c.Info(digest, provider)
	return ok
}

// Info returns what is cached for digest and provider.
func (c *Cache) Info(digest, provider string) (CacheInfo, bool) {
	c.load()
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, f, ok := c.lookupLocked(digest, provider); ok {
		return f.info(), true
	}
	return CacheInfo{}, false
}

// lookupLocked is the key of digest by provider and its cached file, if
// there is one. The caller holds c.mu, after c.load.
func (c *Cache) lookupLocked(digest, provider string) (cacheKey, cacheFile, bool) {
	k, ok := c.key(digest, provider)
	if !ok {
		return k, cacheFile{}, false
	}
	f, ok := c.entries[k]
	return k, f, ok
}

// Intact reports whether a render of these inputs by provider is cached
// and its bytes still hash to the hash the cache recorded: what a plan
// asks before it promises a restore without a request. Where the newest
// copy does not, an older copy of the key (an earlier record, a loose
// file) that does is served from then on, newest first: a damaged copy
// never hides an intact one. It reads and hashes the file once per Cache
// (the answer is kept until the key is cached again), so it is for the
// few renders a plan would restore, not for every image.
func (c *Cache) Intact(digest, provider string) bool {
	c.load()
	for relisted := false; ; relisted = true {
		intact, gone, gen := c.intact(digest, provider)
		if intact || !gone || relisted {
			return intact
		}
		c.relist(gen)
	}
}

// intact is Intact with the cache as listed: gone says that a pack of a
// copy that did not hash right was found gone (a compaction since the
// listing; nothing is noted then), gen is the listing looked up in.
func (c *Cache) intact(digest, provider string) (intact, gone bool, gen int) {
	c.mu.Lock()
	gen = c.gen
	k, f, ok := c.lookupLocked(digest, provider)
	intact, known := c.checked[k]
	older := c.older[k]
	c.mu.Unlock()
	if !ok {
		return false, false, gen
	}
	if known {
		return intact, false, gen
	}
	got := f
	intact, gone = c.hashes(k, f)
	for i := len(older) - 1; !intact && i >= 0; i-- {
		ok, g := c.hashes(k, older[i])
		gone = gone || g
		if ok {
			got, intact = older[i], true
		}
	}
	if !intact && gone {
		return false, true, gen
	}
	c.mu.Lock()
	if c.entries[k] == f {
		if got != f {
			c.entries[k] = got
			c.older[k] = slices.DeleteFunc(slices.Clone(c.older[k]), func(o cacheFile) bool { return o == got })
		}
		if c.checked == nil {
			c.checked = map[cacheKey]bool{}
		}
		c.checked[k] = intact
	}
	c.mu.Unlock()
	return intact, false, gen
}

// Damaged reports whether Intact found the render of these inputs by
// provider cached with bytes that no longer match its hash (damaged, or
// an output edited in place through a link that an older pixform made):
// the reason a plan gives for requesting an image it would have
// restored.
func (c *Cache) Damaged(digest, provider string) bool {
	c.load()
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.key(digest, provider)
	if !ok {
		return false
	}
	intact, known := c.checked[k]
	return known && !intact
}

// hashes reports whether the render f cached under k (a pack's record
// or a loose file) holds bytes whose SHA-256 is f's. One that cannot be
// read does not; gone says that its pack is gone (packGone).
func (c *Cache) hashes(k cacheKey, f cacheFile) (ok, gone bool) {
	r, _, err := c.openCached(k, f)
	if err != nil {
		return false, packGone(f, err)
	}
	defer r.Close()
	_, err = io.Copy(io.Discard, &verifyingReader{r: r, h: sha256.New(), want: f.sum})
	return err == nil, false
}

// Keys returns the set of cached renders, keyed by CacheKey, for the
// planner.
func (c *Cache) Keys() map[string]bool {
	c.load()
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]bool, len(c.entries))
	for k := range c.entries {
		out[CacheKey(hex.EncodeToString(k.digest[:]), k.provider)] = true
	}
	return out
}

// Put records the finished output file src, whose bytes hash to sum, as
// the render of digest by provider, replacing an older render of the same
// key and a damaged one. It keeps a copy, never src's own file (a hard
// link): a user who edits the output in place (cp over it, an editor that
// writes through the file) would edit the cached render too, and a plan
// would promise a restore that apply cannot make. The copy is a record
// appended to this Cache's pack (the kernel's copy, copy_file_range: no
// trip through user space; the bytes are copied, never shared blocks, as
// a record is not block-aligned, even on XFS or Btrfs), not hashed again (sum is the hash of these
// bytes; Intact and Open check it) and not synced (the cache is
// rebuildable). Where sum is empty, Put hashes as it copies.
func (c *Cache) Put(digest, provider, src, sum string) error {
	ext := strings.ToLower(filepath.Ext(src))
	if err := checkCacheKey(digest, provider, ext, src); err != nil {
		return err
	}
	if !validSHA256(sum) {
		return c.copyHashing(digest, provider, src, ext)
	}
	in, err := nofollow.OpenFile(src, os.O_RDONLY, 0)
	if err != nil {
		return fmt.Errorf("cache %s: %w", src, err)
	}
	defer in.Close()
	info, err := in.Stat()
	if err != nil {
		return fmt.Errorf("cache %s: %w", src, err)
	}
	return c.copyKnown(digest, provider, in, info.Size(), src, ext, sum)
}

// Keep records the finished image in the temporary file f (from
// CreateTemp, not yet placed), whose bytes hash to sum and whose format
// ext names (".png", ".jpg"), as the render of digest by provider: a take
// that is kept only here until someone picks it, or an output about to
// be placed. Like Put, it keeps a copy, never f's own file, which becomes
// the output; f stays where it is, its offset untouched.
func (c *Cache) Keep(digest, provider string, f *os.File, ext, sum string) error {
	ext = strings.ToLower(ext)
	if !validSHA256(sum) || !validSHA256(digest) || !validProviderName(provider) || !isCacheExt(ext) {
		return fmt.Errorf("cache %s: invalid key %q/%q/%q", f.Name(), digest, provider, ext)
	}
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("cache %s: %w", f.Name(), err)
	}
	return c.copyKnown(digest, provider, f, info.Size(), f.Name(), ext, sum)
}

// checkCacheKey refuses what is never cached: a digest that is not a
// SHA-256 in lower-case hex, a provider name cut from elsewhere (or
// longer than a pack records), a file that is not an image's (src names
// it in the error).
func checkCacheKey(digest, provider, ext, src string) error {
	if !validSHA256(digest) || !validProviderName(provider) || len(provider) > 255 {
		return fmt.Errorf("cache %s: invalid key %q/%q", src, digest, provider)
	}
	if !isCacheExt(ext) {
		return fmt.Errorf("cache %s: extension %q is not %s", src, ext, media.Extensions)
	}
	return nil
}

// copyKnown copies the first size bytes of in, whose SHA-256 is sum, into
// the cache as the render of digest by provider, a record of this
// Cache's pack (src names in in errors).
func (c *Cache) copyKnown(digest, provider string, in *os.File, size int64, src, ext, sum string) error {
	c.load()
	if len(provider) > 255 {
		return fmt.Errorf("cache %s: invalid key %q/%q", src, digest, provider)
	}
	if err := c.mkdir(); err != nil {
		return fmt.Errorf("cache %s: %w", src, err)
	}
	c.mu.Lock()
	k, kok := c.key(digest, provider)
	f, fok := file(CacheInfo{SHA256: sum, Ext: ext})
	c.mu.Unlock()
	if !kok || !fok { // cannot happen: the callers checked both
		return fmt.Errorf("cache %s: invalid key %q/%q/%q", src, digest, provider, ext)
	}
	f, err := c.appendRecord(k, f.sum, f.ext, in, size)
	if err != nil {
		return fmt.Errorf("cache %s: %w", src, err)
	}
	c.record(k, f)
	return nil
}

// copyBufferedTo copies the first size bytes of src to dst at offset off
// through a buffer, leaving both files' offsets alone.
func copyBufferedTo(dst *os.File, off int64, src *os.File, size int64) error {
	n, err := io.Copy(io.NewOffsetWriter(dst, off), io.NewSectionReader(src, 0, size))
	if err == nil && n < size {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// copyHashing is Put of src, a file whose format ext names, with no hash
// given: its bytes are hashed into a temporary file, then appended to the
// pack as copyKnown does (a record's header, first, holds the hash). The
// caller checked the key (checkCacheKey).
func (c *Cache) copyHashing(digest, provider, src, ext string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("cache %s: %w", src, err)
	}
	defer in.Close()
	c.load()
	if err := c.mkdir(); err != nil {
		return fmt.Errorf("cache %s: %w", src, err)
	}
	tmp, err := CreateTemp(filepath.Join(c.dir, "put"))
	if err != nil {
		return fmt.Errorf("cache %s: %w", src, err)
	}
	defer AbortTemp(tmp)
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), in)
	if err != nil {
		return fmt.Errorf("cache %s: copy: %w", src, err)
	}
	return c.copyKnown(digest, provider, tmp, n, src, ext, hex.EncodeToString(h.Sum(nil)))
}

// record notes the render f cached under k, replacing what was. A loose
// file it replaces (an older render, or a damaged copy of this one) is
// removed; a pack's record stays, dead, in its pack.
func (c *Cache) record(k cacheKey, f cacheFile) {
	c.mu.Lock()
	old, had := c.entries[k]
	c.entries[k] = f
	if had && old.pack != 0 {
		c.addOlder(k, old)
	}
	delete(c.checked, k)
	c.mu.Unlock()
	if had && old.pack == 0 {
		os.Remove(filepath.Join(c.dir, old.name(k)))
	}
}

// ErrCacheCorrupt is returned (wrapped) by a reader from Open whose bytes do
// not match the hash the cache recorded. Callers should render instead.
var ErrCacheCorrupt = errors.New("cached file does not match its recorded hash")

// Open returns the cached bytes of digest by provider. The reader checks
// the bytes against the recorded hash: at the end of the data it returns an
// error wrapping ErrCacheCorrupt instead of io.EOF if they differ, so a
// caller that copies to a temporary file and commits only on success never
// restores a damaged image. A key that is not cached gives fs.ErrNotExist.
func (c *Cache) Open(digest, provider string) (io.ReadCloser, error) {
	c.load()
	for relisted := false; ; relisted = true {
		c.mu.Lock()
		gen := c.gen
		k, f, ok := c.lookupLocked(digest, provider)
		_, known := c.checked[k]
		several := len(c.older[k]) > 0
		c.mu.Unlock()
		if ok && several && !known {
			// Which copy is intact decides which is read: Intact finds it
			// (a read more, only for a key cached more than once).
			c.Intact(digest, provider)
			c.mu.Lock()
			gen = c.gen
			k, f, ok = c.lookupLocked(digest, provider)
			c.mu.Unlock()
		}
		if !ok {
			return nil, fmt.Errorf("open cached render %s: %w", CacheKey(digest, provider), fs.ErrNotExist)
		}
		r, p, err := c.openCached(k, f)
		if err != nil {
			if !relisted && packGone(f, err) {
				c.relist(gen)
				continue
			}
			return nil, fmt.Errorf("open cached render %s: %w", p, err)
		}
		return &verifyingReader{r: r, h: sha256.New(), want: f.sum, name: p}, nil
	}
}

type verifyingReader struct {
	r    io.ReadCloser
	h    hash.Hash
	want [sha256.Size]byte
	name string
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	if err == io.EOF {
		var got [sha256.Size]byte
		if v.h.Sum(got[:0]); got != v.want {
			return n, fmt.Errorf("read %s: %w", v.name, ErrCacheCorrupt)
		}
	}
	return n, err
}

func (v *verifyingReader) Close() error { return v.r.Close() }
