package state

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pixform/pixform/internal/nofollow"
	"github.com/pixform/pixform/internal/safepath"
	"github.com/pixform/pixform/media"
)

// statCacheName is the stat cache inside .pixform/.
const statCacheName = "statcache"

// StatCacheName is the stat cache's name inside the work directory
// (WorkDirName), for a look at its size.
const StatCacheName = statCacheName

// statCacheHeader starts the stat cache; another header means another
// format, and the cache is rebuilt.
const statCacheHeader = "pixform statcache 2\n"

// racyWindow: a file modified this close to (or after) the start of the
// scan that hashed it is hashed again next time, because a write within the
// same timestamp tick would not change its stat (git's "racy clean").
const racyWindow = 2 * time.Second

// FileFact is what is on disk at an entry's path.
type FileFact struct {
	// Exists is true when something is at the path. A non-regular file
	// (symlink, directory, device) exists but has SHA256 "", so it never
	// matches an entry and counts as modified.
	Exists bool
	// SHA256 is the lower-case hex hash of a regular file's contents.
	SHA256 string
	Size   int64
	// MediaType is the format a regular file's first bytes show: media.PNG,
	// media.JPEG, or MediaUnknown for anything else. "" when no regular
	// file is there.
	MediaType string
}

// MediaUnknown is the media type of a file whose bytes start as neither a
// PNG nor a JPEG.
const MediaUnknown = "application/octet-stream"

// sniffMediaType returns the format that a file starting with head holds.
func sniffMediaType(head []byte) string {
	if mt := media.Sniff(head); mt != "" {
		return mt
	}
	return MediaUnknown
}

// statKey is what a stat must still match for a cached hash to be trusted.
type statKey struct {
	Size, MTime, CTime int64 // times in ns
	Ino                uint64
}

type statRecord struct {
	statKey
	SHA256    string
	MediaType string
}

// Refresh returns a fact for the path of every entry of lock (keyed by
// entry.Path), relative to the working directory dir. Files whose size,
// mtime, ctime and inode match .pixform/statcache are not read again unless
// full is true; the rest are hashed in parallel (GOMAXPROCS at a time). The
// updated cache is saved atomically when it changed; a missing or corrupt
// cache is rebuilt silently, and a cache that cannot be saved (read-only
// checkout) is not an error. A path whose directory is a symlink, or that
// is not a regular file, is treated as modified. An error means a file
// that exists could not be read.
func Refresh(dir string, lock *Lock, full bool) (map[string]FileFact, error) {
	return refresh(dir, lock, full, time.Now())
}

// RefreshWith is Refresh for the entries of lock and the files extra
// (slash-separated, relative, accepted by safepath.Check), such as the
// checked-in files that derived images are made from; their hashes go
// through the stat cache too.
func RefreshWith(dir string, lock *Lock, extra []string, full bool) (map[string]FileFact, error) {
	return refreshExtra(dir, lock, extra, full, time.Now(), nil)
}

// RefreshStats is RefreshWith with each file's lstat made through stats,
// which the plan's symbolic link checks have filled: one lstat per file
// for the whole plan. Its racy window counts from stats.Start(), when the
// oldest of those lstats may have been made.
func RefreshStats(dir string, lock *Lock, extra []string, full bool, stats *safepath.Stats) (map[string]FileFact, error) {
	start := time.Now()
	if stats != nil && stats.Start().Before(start) {
		start = stats.Start()
	}
	return refreshExtra(dir, lock, extra, full, start, stats)
}

func refresh(dir string, lock *Lock, full bool, start time.Time) (map[string]FileFact, error) {
	return refreshExtra(dir, lock, nil, full, start, nil)
}

// StatCache is a working directory's stat cache, read and parsed ahead
// of RefreshStatsCache (ReadStatCache), so that a plan can read it while
// it loads its configuration. It is used by one refresh at most.
type StatCache struct {
	dir       string
	wd        string
	err       error
	data      []byte
	old       statRecords
	canonical bool
	paths     []string // of old, in the file's order
}

// Paths returns the paths the stat cache holds a record of, in the
// file's order (sorted when it is in the form a refresh writes), for a
// plan to look at them ahead (safepath.Stats.Warm). The cache keeps no
// hold on them.
func (c *StatCache) Paths() []string {
	ps := c.paths
	c.paths = nil
	return ps
}

// ReadStatCache reads and parses dir's stat cache, as RefreshStats does
// first. An error finding the work directory is RefreshStatsCache's to
// return.
func ReadStatCache(dir string) *StatCache {
	c := &StatCache{dir: dir}
	c.wd, _, c.err = workDir(dir)
	if c.err != nil {
		return c
	}
	c.data, _ = readWorkFile(filepath.Join(c.wd, statCacheName))
	c.old, c.canonical, c.paths = parseStatCacheShared(c.data)
	return c
}

// RefreshStatsCache is RefreshStats with the stat cache that
// ReadStatCache(dir) read (nil: read it now).
func RefreshStatsCache(dir string, lock *Lock, extra []string, full bool, stats *safepath.Stats, cache *StatCache) (map[string]FileFact, error) {
	start := time.Now()
	if stats != nil && stats.Start().Before(start) {
		start = stats.Start()
	}
	return refreshCache(dir, lock, extra, full, start, stats, cache)
}

func refreshExtra(dir string, lock *Lock, extra []string, full bool, start time.Time, stats *safepath.Stats) (map[string]FileFact, error) {
	return refreshCache(dir, lock, extra, full, start, stats, nil)
}

func refreshCache(dir string, lock *Lock, extra []string, full bool, start time.Time, stats *safepath.Stats, cache *StatCache) (map[string]FileFact, error) {
	if cache == nil || cache.dir != dir {
		cache = ReadStatCache(dir)
	}
	if cache.err != nil {
		return nil, cache.err
	}
	cachePath := filepath.Join(cache.wd, statCacheName)
	oldData, old, canonical := cache.data, cache.old, cache.canonical
	// The cache is this refresh's: it keeps none of it alive after.
	cache.data, cache.old, cache.paths = nil, statRecords{}, nil

	facts := make(map[string]FileFact, len(lock.Images))
	// reused are the paths whose cached record stands; they become
	// records only when the cache is written again.
	reused := make([]string, 0, len(lock.Images))
	var toHash []string
	keys := map[string]statKey{}
	safeDirs := map[string]bool{}
	paths := make([]string, 0, len(lock.Images)+len(extra))
	// recorded is the hash the lockfile records for each of its paths:
	// a fact that holds the same hash shares its string.
	recorded := make([]string, 0, len(lock.Images))
	for _, e := range lock.Images {
		paths = append(paths, e.Path)
		recorded = append(recorded, e.SHA256)
	}
	paths = append(paths, extra...)
	// Most paths share their directory with the path before: whether it
	// is inside is looked up once a run of them.
	inside := make([]bool, len(paths))
	lastDir, lastSeen, lastInside := "", false, false
	for i, p := range paths {
		if d := pathDir(p); d != lastDir || !lastSeen {
			lastDir, lastSeen, lastInside = d, true, dirInside(dir, p, safeDirs)
		}
		inside[i] = lastInside
	}
	// What is at each path is worked out apart (on two goroutines for
	// many paths: it only reads), then taken in order, lookChunk paths
	// at a time (the looks of all at once would be as large as facts).
	looks := make([]pathLook, min(len(paths), lookChunk))
	lookAt := func(from, to, base int) {
		for i := from; i < to; i++ {
			looks[i-base] = lookPath(dir, paths[i], inside[i], stats, &old, full, recorded, i)
		}
	}
	parallelLook := len(paths) >= parallelLookFrom && runtime.GOMAXPROCS(0) > 1
	for base := 0; base < len(paths); base += lookChunk {
		end := min(base+lookChunk, len(paths))
		if half := base + (end-base)/2; parallelLook {
			var wg sync.WaitGroup
			wg.Go(func() { lookAt(base, half, base) })
			lookAt(half, end, base)
			wg.Wait()
		} else {
			lookAt(base, end, base)
		}
		for i := base; i < end; i++ {
			p := paths[i]
			if _, done := facts[p]; done {
				continue
			}
			switch lk := &looks[i-base]; lk.kind {
			case lookFailed:
				return nil, lk.err
			case lookHash:
				keys[p] = lk.key
				toHash = append(toHash, p)
			case lookReused:
				facts[p] = lk.fact
				reused = append(reused, p)
			default:
				facts[p] = lk.fact
			}
		}
	}

	hashes, err := hashFiles(dir, toHash)
	if err != nil {
		return nil, err
	}
	// Every record reused as it was read from a file in encodeStatCache's
	// form: the file holds what would be written.
	if canonical && len(toHash) == 0 && len(reused) == old.count() {
		return facts, nil
	}
	records := make(map[string]statRecord, len(reused)+len(toHash))
	for _, p := range reused {
		records[p], _ = old.get(p)
	}
	racyBefore := start.Add(-racyWindow).UnixNano()
	for _, p := range toHash {
		h := hashes[p]
		if !h.exists {
			facts[p] = FileFact{}
			continue
		}
		facts[p] = FileFact{Exists: true, SHA256: h.sum, Size: h.size, MediaType: h.mediaType}
		k := keys[p]
		if k.Size == h.size && k.MTime < racyBefore && k.CTime < racyBefore {
			records[p] = statRecord{statKey: k, SHA256: h.sum, MediaType: h.mediaType}
		}
	}

	if newData := encodeStatCache(records); !bytes.Equal(newData, oldData) {
		if _, err := EnsureWorkDir(dir); err == nil {
			_ = WriteFileAtomic(cachePath, newData) // the cache is an optimisation only
		}
	}
	return facts, nil
}

// parallelLookFrom is the fewest paths a refresh looks at on two
// goroutines.
const parallelLookFrom = 2048

// lookChunk is how many paths a refresh looks at before it takes what
// it found.
const lookChunk = 2048

// pathLook is what a refresh found at one path (lookPath).
type pathLook struct {
	kind uint8
	fact FileFact // lookFact, lookReused
	key  statKey  // lookHash
	err  error    // lookFailed
}

// Kinds of pathLook.
const (
	lookFact   = iota // fact is the fact
	lookReused        // fact is the stat cache's record, which stands
	lookHash          // a regular file to hash, whose stat is key
	lookFailed        // err says why it could not be looked at
)

// lookPath looks at p, the path at index i of a refresh's paths (those
// below len(recorded) are the lockfile's, recorded[i] its hash), whose
// directory is inside the working directory or not: what the refresh
// then records of it. It only reads.
func lookPath(dir, p string, inside bool, stats *safepath.Stats, old *statRecords, full bool, recorded []string, i int) pathLook {
	if !inside {
		return pathLook{fact: FileFact{Exists: true}}
	}
	fi, err := stats.Lstat(dir, p)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return pathLook{}
	}
	if err != nil {
		return pathLook{kind: lookFailed, err: fmt.Errorf("check %s: %w", p, err)}
	}
	if !fi.Mode().IsRegular() {
		return pathLook{fact: FileFact{Exists: true, Size: fi.Size()}}
	}
	k := statKeyOf(fi)
	if rec, ok := old.get(p); ok && !full && rec.statKey == k {
		sum := rec.SHA256
		if i < len(recorded) && recorded[i] == sum {
			sum = recorded[i]
		} else {
			sum = strings.Clone(sum) // not a piece of the whole cache
		}
		return pathLook{kind: lookReused, fact: FileFact{Exists: true, SHA256: sum, Size: k.Size, MediaType: rec.MediaType}}
	}
	return pathLook{kind: lookHash, key: k}
}

// dirInside reports whether every directory on the way to rel is a real
// directory inside root: no symlink on the way redirects it elsewhere.
// Results are memoised in safe; a missing directory counts as inside.
func dirInside(root, rel string, safe map[string]bool) bool {
	d := pathDir(rel)
	if d == "" {
		return true
	}
	if ok, seen := safe[d]; seen {
		return ok
	}
	ok := dirInside(root, d, safe)
	if ok {
		fi, err := os.Lstat(filepath.Join(root, filepath.FromSlash(d)))
		ok = err != nil || fi.Mode()&os.ModeSymlink == 0
	}
	safe[d] = ok
	return ok
}

func pathDir(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return ""
}

func statKeyOf(fi os.FileInfo) statKey {
	k := statKey{Size: fi.Size(), MTime: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*safepath.StatSys); ok { // through a safepath.Stats
		k.Ino = st.Ino
		k.CTime = st.CTime
	} else {
		k.Ino, k.CTime, _ = inodeCTime(fi)
	}
	return k
}

// FactsOf returns what is at each of paths (relative, slash-separated,
// already checked to lie inside dir with no symbolic link on the way), a
// regular file hashed: for the few paths a plan would write that no
// lockfile entry records, where it must tell a file of the bytes it
// writes from someone's. It keeps no stat cache.
func FactsOf(dir string, paths []string) (map[string]FileFact, error) {
	facts := make(map[string]FileFact, len(paths))
	var toHash []string
	for _, p := range paths {
		fi, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(p)))
		switch {
		case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
			facts[p] = FileFact{}
		case err != nil:
			return nil, fmt.Errorf("check %s: %w", p, err)
		case !fi.Mode().IsRegular():
			facts[p] = FileFact{Exists: true, Size: fi.Size()}
		default:
			toHash = append(toHash, p)
		}
	}
	hashes, err := hashFiles(dir, toHash)
	if err != nil {
		return nil, err
	}
	for _, p := range toHash {
		if h := hashes[p]; h.exists {
			facts[p] = FileFact{Exists: true, SHA256: h.sum, Size: h.size, MediaType: h.mediaType}
		} else {
			facts[p] = FileFact{}
		}
	}
	return facts, nil
}

type hashResult struct {
	exists    bool
	sum       string
	size      int64
	mediaType string
}

// hashFiles hashes paths (relative to dir) with GOMAXPROCS workers.
func hashFiles(dir string, paths []string) (map[string]hashResult, error) {
	out := make(map[string]hashResult, len(paths))
	if len(paths) == 0 {
		return out, nil
	}
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	work := make(chan string)
	for range min(runtime.GOMAXPROCS(0), len(paths)) {
		wg.Go(func() {
			buf := make([]byte, 64<<10)
			for p := range work {
				r, err := hashFile(filepath.Join(dir, filepath.FromSlash(p)), buf)
				mu.Lock()
				if err != nil && first == nil {
					first = fmt.Errorf("hash %s: %w (check its permissions, or delete it to have it rendered again)", p, err)
				}
				out[p] = r
				mu.Unlock()
			}
		})
	}
	for _, p := range paths {
		work <- p
	}
	close(work)
	wg.Wait()
	return out, first
}

// hashFile hashes the file at path, reading through buf (a nil or short
// buf is replaced).
func hashFile(path string, buf []byte) (hashResult, error) {
	if len(buf) < 512 {
		buf = make([]byte, 32<<10)
	}
	f, err := nofollow.OpenFile(path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return hashResult{}, nil
	}
	if errors.Is(err, syscall.ELOOP) { // became a symlink since the stat
		return hashResult{exists: true}, nil
	}
	if err != nil {
		return hashResult{}, err
	}
	defer f.Close()
	h := sha256.New()
	// The first read fills buf (a small file in one system call) and
	// shows the format; it is hashed like the rest.
	head, err := io.ReadFull(f, buf)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return hashResult{}, err
	}
	h.Write(buf[:head])
	mt := sniffMediaType(buf[:head])
	var n int64
	if head == len(buf) {
		// Hide File's WriterTo, or CopyBuffer ignores buf and allocates
		// 32 KiB per file.
		if n, err = io.CopyBuffer(h, struct{ io.Reader }{f}, buf); err != nil {
			return hashResult{}, err
		}
	}
	return hashResult{exists: true, sum: hex.EncodeToString(h.Sum(nil)), size: int64(head) + n, mediaType: mt}, nil
}

// parseStatCache reads the cache: after the header, one line per file,
// "sha256 size mtime ctime inode media-type quoted-path". Anything
// statFields splits a stat cache line into its six fields and the quoted
// path, which may hold spaces; false if it has fewer fields.
func statFields(line string) (f [7]string, ok bool) {
	n := 0
	for ; n < 6; n++ {
		field, after, found := strings.Cut(line, " ")
		if !found {
			return f, false
		}
		f[n], line = field, after
	}
	f[n] = line
	return f, true
}

// malformed yields an empty cache (it is rebuilt).
func parseStatCache(data []byte) map[string]statRecord {
	rest, ok := bytes.CutPrefix(data, []byte(statCacheHeader))
	if !ok {
		return map[string]statRecord{}
	}
	out := make(map[string]statRecord, bytes.Count(rest, []byte("\n")))
	sc := bufio.NewScanner(bytes.NewReader(rest))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f, ok := statFields(sc.Text())
		if !ok || !validSHA256(f[0]) || !knownSniff(f[5]) {
			return map[string]statRecord{}
		}
		var rec statRecord
		var errs [4]error
		rec.SHA256 = f[0]
		rec.Size, errs[0] = strconv.ParseInt(f[1], 10, 64)
		rec.MTime, errs[1] = strconv.ParseInt(f[2], 10, 64)
		rec.CTime, errs[2] = strconv.ParseInt(f[3], 10, 64)
		rec.Ino, errs[3] = strconv.ParseUint(f[4], 10, 64)
		rec.MediaType = f[5]
		p, err := strconv.Unquote(f[6])
		if err != nil || errors.Join(errs[:]...) != nil {
			return map[string]statRecord{}
		}
		out[p] = rec
	}
	return out
}

// knownSniff reports whether mt is a media type sniffMediaType returns.
func knownSniff(mt string) bool {
	return media.Known(mt) || mt == MediaUnknown
}

func encodeStatCache(records map[string]statRecord) []byte {
	paths := make([]string, 0, len(records))
	for p := range records {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	buf := make([]byte, 0, len(statCacheHeader)+len(paths)*160)
	buf = append(buf, statCacheHeader...)
	for _, p := range paths {
		r := records[p]
		buf = append(buf, r.SHA256...)
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, r.Size, 10)
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, r.MTime, 10)
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, r.CTime, 10)
		buf = append(buf, ' ')
		buf = strconv.AppendUint(buf, r.Ino, 10)
		buf = append(buf, ' ')
		buf = append(buf, r.MediaType...)
		buf = append(buf, ' ')
		buf = strconv.AppendQuote(buf, p)
		buf = append(buf, '\n')
	}
	return buf
}
