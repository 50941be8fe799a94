package state

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/media"
)

func sha(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }

func writeFileT(t testing.TB, dir, rel, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// lockWithPaths makes a lock with one entry per path.
func lockWithPaths(paths ...string) *Lock {
	l := NewLock()
	for i, p := range paths {
		e := entryN(i)
		e.Path = p
		l.Images[addrs.MustParse(fmt.Sprintf("image.f[%d]", i))] = e
	}
	return l
}

// later is a scan start far enough after any file in a test that every
// hash is cacheable.
func later() time.Time { return time.Now().Add(time.Hour) }

func TestRefreshFacts(t *testing.T) {
	outside := t.TempDir()
	writeFileT(t, outside, "x.png", "outside")
	tests := map[string]struct {
		setup func(t *testing.T, dir string)
		path  string
		want  FileFact
	}{
		"missing":             {func(*testing.T, string) {}, "a.png", FileFact{}},
		"missing directory":   {func(*testing.T, string) {}, "no/such/a.png", FileFact{}},
		"parent is a file":    {func(t *testing.T, d string) { writeFileT(t, d, "f", "x") }, "f/a.png", FileFact{}},
		"regular":             {func(t *testing.T, d string) { writeFileT(t, d, "a/b.png", "hello") }, "a/b.png", FileFact{true, sha("hello"), 5, MediaUnknown}},
		"empty file":          {func(t *testing.T, d string) { writeFileT(t, d, "e.png", "") }, "e.png", FileFact{true, sha(""), 0, MediaUnknown}},
		"directory at path":   {func(t *testing.T, d string) { os.MkdirAll(filepath.Join(d, "d.png"), 0o755) }, "d.png", FileFact{Exists: true, Size: 4096}},
		"symlink at path":     {func(t *testing.T, d string) { os.Symlink(filepath.Join(outside, "x.png"), filepath.Join(d, "s.png")) }, "s.png", FileFact{Exists: true, Size: int64(len(filepath.Join(outside, "x.png")))}},
		"symlinked directory": {func(t *testing.T, d string) { os.Symlink(outside, filepath.Join(d, "sub")) }, "sub/x.png", FileFact{Exists: true}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			tc.setup(t, dir)
			for _, full := range []bool{false, true, false} {
				facts, err := refresh(dir, lockWithPaths(tc.path), full, later())
				if err != nil {
					t.Fatal(err)
				}
				got, ok := facts[tc.path]
				if !ok {
					t.Fatalf("no fact for %s: %v", tc.path, facts)
				}
				if tc.want.Exists && tc.want.SHA256 == "" {
					got.Size, tc.want.Size = 0, 0 // sizes of non-regular files vary by filesystem
				}
				if got != tc.want {
					t.Fatalf("full=%v: got %+v, want %+v", full, got, tc.want)
				}
			}
		})
	}
}

func TestRefreshUsesCache(t *testing.T) {
	dir := t.TempDir()
	writeFileT(t, dir, "a.png", "aaa")
	writeFileT(t, dir, "b.png", "bbb")
	l := lockWithPaths("a.png", "b.png")
	if _, err := refresh(dir, l, false, later()); err != nil {
		t.Fatal(err)
	}
	cachePath := filepath.Join(dir, WorkDirName, statCacheName)
	data, err := os.ReadFile(cachePath)
	if err != nil {
		t.Fatalf("no stat cache written: %v", err)
	}
	// Plant a wrong hash for a.png: a warm refresh must believe the cache
	// (proving it did not re-read the file), a full one must not.
	planted := strings.Replace(string(data), sha("aaa"), sha("planted"), 1)
	if err := os.WriteFile(cachePath, []byte(planted), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		full bool
		want string
	}{
		{"warm trusts the cache", false, sha("planted")},
		{"full re-hashes", true, sha("aaa")},
		{"cache was corrected", false, sha("aaa")},
	}
	for _, tc := range tests {
		facts, err := refresh(dir, l, tc.full, later())
		if err != nil {
			t.Fatal(err)
		}
		if got := facts["a.png"].SHA256; got != tc.want {
			t.Fatalf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
	// A changed file (new size, mtime, ctime) is re-hashed.
	writeFileT(t, dir, "b.png", "changed")
	facts, err := refresh(dir, l, false, later())
	if err != nil {
		t.Fatal(err)
	}
	if facts["b.png"] != (FileFact{true, sha("changed"), 7, MediaUnknown}) {
		t.Fatalf("modified file: %+v", facts["b.png"])
	}
	// A removed file is gone, and dropped from the cache.
	os.Remove(filepath.Join(dir, "b.png"))
	facts, err = refresh(dir, l, false, later())
	if err != nil {
		t.Fatal(err)
	}
	if facts["b.png"].Exists {
		t.Fatal("removed file still exists")
	}
	if data, _ := os.ReadFile(cachePath); strings.Contains(string(data), `"b.png"`) {
		t.Fatal("cache still lists a missing file")
	}
}

func TestRefreshRacyFilesAreNotCached(t *testing.T) {
	dir := t.TempDir()
	writeFileT(t, dir, "a.png", "aaa")
	if _, err := refresh(dir, lockWithPaths("a.png"), false, time.Now()); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, WorkDirName, statCacheName))
	if strings.Contains(string(data), "a.png") {
		t.Fatalf("a file modified just now was cached: %q", data)
	}
}

func TestRefreshCorruptCache(t *testing.T) {
	tests := map[string]string{
		"garbage":       "not a cache at all",
		"wrong header":  "pixform statcache 99\n",
		"bad line":      statCacheHeader + "zz 1 2 3 4 image/png \"a.png\"\n",
		"bad number":    statCacheHeader + sha("x") + " one 2 3 4 image/png \"a.png\"\n",
		"bad quote":     statCacheHeader + sha("x") + " 1 2 3 4 image/png a.png\n",
		"bad type":      statCacheHeader + sha("x") + " 1 2 3 4 text/html \"a.png\"\n",
		"a field short": statCacheHeader + sha("x") + " 1 2 3 image/png \"a.png\"\n",
		"empty line":    statCacheHeader + "\n",
		"old format":    "pixform statcache 1\n" + sha("x") + " 1 2 3 4 \"a.png\"\n",
	}
	for name, content := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeFileT(t, dir, "a.png", "aaa")
			writeFileT(t, dir, filepath.Join(WorkDirName, statCacheName), content)
			facts, err := refresh(dir, lockWithPaths("a.png"), false, later())
			if err != nil {
				t.Fatal(err)
			}
			if facts["a.png"].SHA256 != sha("aaa") {
				t.Fatalf("got %+v", facts["a.png"])
			}
			data, _ := os.ReadFile(filepath.Join(dir, WorkDirName, statCacheName))
			if got := parseStatCache(data); got["a.png"].SHA256 != sha("aaa") {
				t.Fatalf("cache not rebuilt: %q", data)
			}
		})
	}
}

func TestStatCacheRoundTrip(t *testing.T) {
	recs := map[string]statRecord{
		"a.png":              {statKey{1, 2, 3, 4}, sha("a"), media.PNG},
		"dir/with space.png": {statKey{5, -6, 7, 1 << 63}, sha("b"), media.JPEG},
		"odd\"\n\\.png":      {statKey{}, sha("c"), MediaUnknown},
	}
	got := parseStatCache(encodeStatCache(recs))
	if fmt.Sprint(got) != fmt.Sprint(recs) {
		t.Fatalf("got %v\nwant %v", got, recs)
	}
}

func setupFiles(b *testing.B, n int) (string, *Lock) {
	dir := b.TempDir()
	l := NewLock()
	for i := range n {
		e := entryN(i)
		e.Path = fmt.Sprintf("images/%02d/img-%05d.png", i%100, i)
		writeFileT(b, dir, e.Path, fmt.Sprintf("small image %d", i))
		l.Images[addrs.MustParse(fmt.Sprintf("image.img[%d]", i))] = e
	}
	return dir, l
}

// BenchmarkRefresh10kWarm: 10,000 small files, every stat matching the cache.
func BenchmarkRefresh10kWarm(b *testing.B) {
	dir, l := setupFiles(b, 10000)
	if _, err := refresh(dir, l, true, later()); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := refresh(dir, l, false, later()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRefresh10kFull: 10,000 small files, every one hashed.
func BenchmarkRefresh10kFull(b *testing.B) {
	dir, l := setupFiles(b, 10000)
	for b.Loop() {
		if _, err := refresh(dir, l, true, later()); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRefreshSniffsTheFormat checks that a fact says what format the
// file's first bytes hold, whether hashed now or taken from the stat cache.
func TestRefreshSniffsTheFormat(t *testing.T) {
	dir := t.TempDir()
	writeFileT(t, dir, "p.png", "\x89PNG\r\n\x1a\nrest")
	writeFileT(t, dir, "j.png", "\xff\xd8\xff\xe0rest")
	writeFileT(t, dir, "short.png", "\xff")
	l := lockWithPaths("p.png", "j.png", "short.png")
	want := map[string]string{"p.png": media.PNG, "j.png": media.JPEG, "short.png": MediaUnknown}
	for _, full := range []bool{false, false, true} {
		facts, err := refresh(dir, l, full, later())
		if err != nil {
			t.Fatal(err)
		}
		for p, mt := range want {
			if got := facts[p]; got.MediaType != mt {
				t.Errorf("full=%v %s: media type %q, want %q", full, p, got.MediaType, mt)
			}
		}
		if got := facts["j.png"]; got.Size != 8 {
			t.Errorf("j.png size %d, want 8", got.Size)
		}
	}
}

// A refresh of more paths than it looks at in one go finds each one's
// fact, in every chunk, on each side of their boundaries, and from the
// cache the second time.
func TestRefreshAcrossLookChunks(t *testing.T) {
	dir := t.TempDir()
	n := 2*lookChunk + 3
	paths := make([]string, n)
	for i := range paths {
		paths[i] = fmt.Sprintf("img/%05d.png", i)
	}
	present := map[int]bool{0: true, lookChunk - 1: true, lookChunk: true, 2*lookChunk - 1: true, 2 * lookChunk: true, n - 1: true}
	for i := range present {
		writeFileT(t, dir, paths[i], paths[i])
	}
	for _, full := range []bool{false, false, true} {
		facts, err := refresh(dir, lockWithPaths(paths...), full, later())
		if err != nil {
			t.Fatal(err)
		}
		if len(facts) != n {
			t.Fatalf("%d facts for %d paths", len(facts), n)
		}
		for i, p := range paths {
			want := FileFact{}
			if present[i] {
				want = FileFact{true, sha(p), int64(len(p)), MediaUnknown}
			}
			if facts[p] != want {
				t.Fatalf("full=%v: %s: %+v, want %+v", full, p, facts[p], want)
			}
		}
	}
}
