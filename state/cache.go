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
	"strings"
	"sync"
	"syscall"

	"github.com/pixform/pixform/internal/unnamed"
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
// .pixform/cache/<inputs digest>-<provider>-<sha256><ext>, so that an image
// whose inputs come back (an undo, a branch switch) is restored without a
// request. The file name records the hash; Open checks it. The directory is
// listed once, on first use. A Cache is safe for concurrent use.
type Cache struct {
	root string // the working directory
	dir  string // .pixform/cache

	once    sync.Once
	mu      sync.Mutex
	entries map[cacheKey]cacheFile
	// providers interns the provider names of entries: a run has one or
	// two, and a key must not keep alive the string it was cut from.
	providers map[string]string

	made    sync.Once
	madeErr error // of creating .pixform/ and the cache directory

	// checked holds, by key, what Intact found of the file cached
	// under it since it was recorded: true when its bytes hash to the
	// hash its name records, false when they do not.
	checked map[cacheKey]bool
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
// key, its file's name follows (name), so that a run of many images keeps
// no name nor hex hash per image.
type cacheFile struct {
	sum [sha256.Size]byte
	ext string
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

// load lists the cache directory once. A missing or unreadable directory
// is an empty cache: the cache is an optimisation only. So is one reached
// through a symbolic link, which is never listed (mkdir then refuses it).
func (c *Cache) load() {
	c.once.Do(func() {
		c.entries = map[cacheKey]cacheFile{}
		c.providers = map[string]string{}
		if _, ok, err := workSubDir(c.root, cacheDirName); err != nil || !ok {
			return
		}
		des, _ := os.ReadDir(c.dir)
		for _, de := range des {
			if !de.Type().IsRegular() {
				continue
			}
			if digest, provider, info, ok := parseCacheName(de.Name()); ok {
				k, kok := c.key(digest, provider)
				f, fok := file(info)
				if kok && fok {
					c.entries[k] = f
				}
			}
		}
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
// asks before it promises a restore without a request. It reads and
// hashes the file once per Cache (the answer is kept until the key is
// cached again), so it is for the few renders a plan would restore, not
// for every image.
func (c *Cache) Intact(digest, provider string) bool {
	c.load()
	c.mu.Lock()
	k, f, ok := c.lookupLocked(digest, provider)
	intact, known := c.checked[k]
	c.mu.Unlock()
	if !ok {
		return false
	}
	if known {
		return intact
	}
	intact = c.hashes(f.name(k), f.sum)
	c.mu.Lock()
	if c.entries[k] == f {
		if c.checked == nil {
			c.checked = map[cacheKey]bool{}
		}
		c.checked[k] = intact
	}
	c.mu.Unlock()
	return intact
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

// hashes reports whether the cache file name holds bytes whose SHA-256
// is sum. A file that cannot be read does not.
func (c *Cache) hashes(name string, sum [sha256.Size]byte) bool {
	f, err := os.OpenFile(filepath.Join(c.dir, name), os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false
	}
	var got [sha256.Size]byte
	h.Sum(got[:0])
	return got == sum
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
// key and a damaged file of the same name. It keeps a copy, never src's
// own file (a hard link): a user who edits the output in place (cp over
// it, an editor that writes through the file) would edit the cached
// render too, and a plan would promise a restore that apply cannot make.
// The copy is the kernel's (copy_file_range: shared blocks on XFS and
// Btrfs, a copy in the page cache elsewhere), not hashed again (sum is
// the hash of these bytes; Intact and Open check it) and not synced (the
// cache is rebuildable). Where sum is empty, Put hashes as it copies.
func (c *Cache) Put(digest, provider, src, sum string) error {
	if !validSHA256(sum) {
		return c.copyIn(digest, provider, src)
	}
	ext := strings.ToLower(filepath.Ext(src))
	if err := checkCacheKey(digest, provider, ext, src); err != nil {
		return err
	}
	in, err := os.OpenFile(src, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
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
// SHA-256 in lower-case hex, a provider name cut from elsewhere, a file
// that is not an image's (src names it in the error).
func checkCacheKey(digest, provider, ext, src string) error {
	if !validSHA256(digest) || !validProviderName(provider) {
		return fmt.Errorf("cache %s: invalid key %q/%q", src, digest, provider)
	}
	if !isCacheExt(ext) {
		return fmt.Errorf("cache %s: extension %q is not %s", src, ext, media.Extensions)
	}
	return nil
}

// copyKnown copies the first size bytes of in, whose SHA-256 is sum, into
// the cache as the render of digest by provider, in a file of its own
// (src names in in errors).
func (c *Cache) copyKnown(digest, provider string, in *os.File, size int64, src, ext, sum string) error {
	c.load()
	if err := c.mkdir(); err != nil {
		return fmt.Errorf("cache %s: %w", src, err)
	}
	name := digest + "-" + provider + "-" + sum + ext
	// c.dir is clean (a Join) and name a plain base name (its parts
	// checked by the callers): Join would only clean it again.
	target := c.dir + string(filepath.Separator) + name
	// An unnamed file linked at its name costs a third of a named one
	// renamed there: one directory entry made, not two changed.
	tmp, err := openUnnamedTemp(target, true)
	if errors.Is(err, errNoUnnamed) {
		tmp, err = CreateTemp(target)
	}
	if err != nil {
		return fmt.Errorf("cache %s: %w", src, err)
	}
	if err := copyFileAt(tmp, in, size); err != nil {
		AbortTemp(tmp)
		return fmt.Errorf("cache %s: copy: %w", src, err)
	}
	if isUnnamed, _ := unnamedTemp(tmp.Name()); isUnnamed {
		if err := unnamed.Link(tmp, target, false); err == nil {
			tmp.Close()
			c.record(digest, provider, name, CacheInfo{SHA256: sum, Ext: ext})
			return nil
		}
	}
	// The rename replaces a file of the same name, which may be a
	// damaged copy (Intact said so) of these very bytes.
	if err := RenameTemp(tmp, target); err != nil {
		return fmt.Errorf("cache %s: %w", src, err)
	}
	c.record(digest, provider, name, CacheInfo{SHA256: sum, Ext: ext})
	return nil
}

// copyBuffered copies the first size bytes of src to dst at dst's
// offset through a buffer, leaving src's offset alone.
func copyBuffered(dst, src *os.File, size int64) error {
	n, err := io.Copy(struct{ io.Writer }{dst}, io.NewSectionReader(src, 0, size))
	if err == nil && n < size {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// copyIn copies src into the cache, hashing it on the way.
func (c *Cache) copyIn(digest, provider, src string) error {
	return c.copyInAs(digest, provider, src, strings.ToLower(filepath.Ext(src)))
}

// copyInAs is copyIn of a file whose format ext names.
func (c *Cache) copyInAs(digest, provider, src, ext string) error {
	if err := checkCacheKey(digest, provider, ext, src); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("cache %s: %w", src, err)
	}
	defer in.Close()
	return c.copyFrom(digest, provider, in, src, ext)
}

// copyFrom is copyInAs of the bytes that in reads, from src (named in
// errors).
func (c *Cache) copyFrom(digest, provider string, in io.Reader, src, ext string) error {
	if err := checkCacheKey(digest, provider, ext, src); err != nil {
		return err
	}
	c.load()
	if err := c.mkdir(); err != nil {
		return fmt.Errorf("cache %s: %w", src, err)
	}
	// The temporary name is made for a placeholder target in the cache
	// directory; the final name needs the hash, known only after the copy.
	tmp, err := CreateTemp(filepath.Join(c.dir, "put"))
	if err != nil {
		return fmt.Errorf("cache %s: %w", src, err)
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h), in); err != nil {
		AbortTemp(tmp)
		return fmt.Errorf("cache %s: copy: %w", src, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	name := digest + "-" + provider + "-" + sum + ext
	// The cache is rebuildable and Open verifies every byte against the
	// hash in the name, so it is not worth an fsync on the apply's hot path.
	if err := RenameTemp(tmp, filepath.Join(c.dir, name)); err != nil {
		return fmt.Errorf("cache %s: %w", src, err)
	}
	c.record(digest, provider, name, CacheInfo{SHA256: sum, Ext: ext})
	return nil
}

// record notes a cached file, removing an older one of the same key.
func (c *Cache) record(digest, provider, name string, info CacheInfo) {
	c.load()
	c.mu.Lock()
	key, kok := c.key(digest, provider)
	f, fok := file(info)
	if !kok || !fok { // cannot happen: the callers checked both
		c.mu.Unlock()
		return
	}
	old, had := c.entries[key]
	c.entries[key] = f
	delete(c.checked, key)
	c.mu.Unlock()
	if had {
		if oldName := old.name(key); oldName != name {
			os.Remove(filepath.Join(c.dir, oldName))
		}
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
	c.mu.Lock()
	k, f, ok := c.lookupLocked(digest, provider)
	c.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("open cached render %s: %w", CacheKey(digest, provider), fs.ErrNotExist)
	}
	p := filepath.Join(c.dir, f.name(k))
	file, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, fmt.Errorf("open cached render %s: %w", p, err)
	}
	return &verifyingReader{f: file, h: sha256.New(), want: hex.EncodeToString(f.sum[:]), name: p}, nil
}

type verifyingReader struct {
	f    *os.File
	h    hash.Hash
	want string
	name string
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	n, err := v.f.Read(p)
	v.h.Write(p[:n])
	if err == io.EOF {
		if got := hex.EncodeToString(v.h.Sum(nil)); got != v.want {
			return n, fmt.Errorf("read %s: %w", v.name, ErrCacheCorrupt)
		}
	}
	return n, err
}

func (v *verifyingReader) Close() error { return v.f.Close() }
