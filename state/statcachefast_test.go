package state

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/pixform/pixform/internal/safepath"
	"github.com/pixform/pixform/media"
)

// statCacheSeeds are stat caches of every kind parseStatCache meets:
// written by encodeStatCache, edited, damaged.
func statCacheSeeds() []string {
	enc := string(encodeStatCache(map[string]statRecord{
		"a.png":              {statKey{1, 2, 3, 4}, sha("a"), media.PNG},
		"dir/with space.png": {statKey{5, -6, 7, 1 << 63}, sha("b"), media.JPEG},
		"odd\"\n\\.png":      {statKey{}, sha("c"), MediaUnknown},
		"é/ü.jpg":            {statKey{0, 0, 0, 9}, sha("d"), media.JPEG},
	}))
	line := sha("x") + " 1 2 3 4 image/png \"a.png\"\n"
	line2 := sha("y") + " 1 2 3 4 image/png \"b.png\"\n"
	return []string{
		"", statCacheHeader, enc,
		strings.TrimSuffix(enc, "\n"),
		strings.ReplaceAll(enc, "\n", "\r\n"),
		statCacheHeader + line2 + line, // unsorted
		statCacheHeader + line + line,  // a path twice
		statCacheHeader + line + "\n",  // an empty line
		statCacheHeader + strings.Replace(line, " 1 ", " 01 ", 1),
		statCacheHeader + strings.Replace(line, " 1 ", " +1 ", 1),
		statCacheHeader + strings.Replace(line, " 2 ", " -0 ", 1),
		statCacheHeader + strings.Replace(line, `"a.png"`, "`a.png`", 1),
		statCacheHeader + strings.Replace(line, `"a.png"`, `"\x61.png"`, 1),
		statCacheHeader + strings.Replace(line, `"a.png"`, `'a'`, 1),
		statCacheHeader + strings.Replace(line, "image/png", "image/gif", 1),
		statCacheHeader + strings.Replace(line, " 4 ", " 18446744073709551616 ", 1),
		statCacheHeader + "zz 1 2 3 4 image/png \"a.png\"\n",
		"pixform statcache 1\n" + line,
		// Paths quoted as they are, or not quite.
		statCacheHeader + strings.Replace(line, `"a.png"`, `"a ~b!.png"`, 1),
		statCacheHeader + strings.Replace(line, `"a.png"`, "\"a\x7f.png\"", 1),
		statCacheHeader + strings.Replace(line, `"a.png"`, "\"a\tb.png\"", 1),
		statCacheHeader + strings.Replace(line, `"a.png"`, `"a"b.png"`, 1),
		statCacheHeader + strings.Replace(line, `"a.png"`, `"a.png`, 1),
		statCacheHeader + strings.Replace(line, `"a.png"`, `"`, 1),
		statCacheHeader + strings.Replace(line, `"a.png"`, `""`, 1),
	}
}

// checkStatCacheFast compares parseStatCacheFast with parseStatCache on
// data, and its canonical verdict with encoding the records again.
func checkStatCacheFast(t *testing.T, data []byte) {
	for _, l := range bytes.Split(data, []byte("\n")) {
		if len(l) >= statCacheMaxLine-1 {
			return // the scanner stops where the fast path refuses all
		}
	}
	want := parseStatCache(data)
	got, canonical := parseStatCacheFast(data)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parseStatCacheFast(%q) = %v, parseStatCache: %v", data, got, want)
	}
	if enc := encodeStatCache(got); canonical != bytes.Equal(enc, data) {
		t.Fatalf("parseStatCacheFast(%q): canonical %v, but encoding its records gives %q", data, canonical, enc)
	}
	// The paths in the file's order: each record's, sorted and once
	// each when canonical.
	_, _, paths := parseStatCacheOrder(data, true)
	keys := slices.Sorted(maps.Keys(got))
	if canonical && !slices.Equal(paths, keys) || !canonical && !slices.Equal(slices.Compact(slices.Sorted(slices.Values(paths))), keys) {
		t.Fatalf("parseStatCacheOrder(%q) paths %q, records of %q", data, paths, keys)
	}
	// Sharing data's bytes, it reads the same.
	shared, sharedCanonical, sharedPaths := parseStatCacheShared(bytes.Clone(data))
	if m := shared.asMap(); !reflect.DeepEqual(m, got) || sharedCanonical != canonical || !slices.Equal(sharedPaths, paths) || shared.count() != len(got) {
		t.Fatalf("parseStatCacheShared(%q) = %v, %v, %q; parseStatCacheOrder: %v, %v, %q", data, m, sharedCanonical, sharedPaths, got, canonical, paths)
	}
	// Each record is found by its path, and no other path finds one.
	for p, rec := range got {
		if r, ok := shared.get(p); !ok || r != rec {
			t.Fatalf("parseStatCacheShared(%q).get(%q) = %v, %v; want %v", data, p, r, ok, rec)
		}
		_, want := got[p+"\x00"]
		if _, ok := shared.get(p + "\x00"); ok != want {
			t.Fatalf("parseStatCacheShared(%q).get(%q): found %v, want %v", data, p+"\x00", ok, want)
		}
	}
	if canonical != (shared.m == nil) {
		t.Fatalf("parseStatCacheShared(%q): canonical %v, but records in a map: %v", data, canonical, shared.m != nil)
	}
}

// asMap returns the records in a map.
func (r *statRecords) asMap() map[string]statRecord {
	if r.m != nil {
		return r.m
	}
	m := make(map[string]statRecord, len(r.paths))
	for i, p := range r.paths {
		m[p] = r.recs[i]
	}
	return m
}

// ReadStatCache's records are cut from the bytes it read, not from a
// copy of them.
func TestReadStatCacheSharesData(t *testing.T) {
	dir := t.TempDir()
	recs := map[string]statRecord{}
	for i := range 50 {
		recs[fmt.Sprintf("images/img-%03d.png", i)] = statRecord{statKey: statKey{Size: int64(i), MTime: 1, CTime: 2, Ino: uint64(i)}, SHA256: fmt.Sprintf("%064x", i), MediaType: media.PNG}
	}
	if err := os.MkdirAll(filepath.Join(dir, WorkDirName), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, WorkDirName, StatCacheName), encodeStatCache(recs), 0o644); err != nil {
		t.Fatal(err)
	}
	c := ReadStatCache(dir)
	if c.err != nil || !reflect.DeepEqual(c.old.asMap(), recs) || !c.canonical || c.old.m != nil {
		t.Fatalf("ReadStatCache: %v, canonical %v, %+v", c.err, c.canonical, c.old)
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(c.data)))
	for p, rec := range c.old.asMap() {
		for _, s := range []string{p, rec.SHA256} {
			if q := uintptr(unsafe.Pointer(unsafe.StringData(s))); q < start || q+uintptr(len(s)) > start+uintptr(len(c.data)) {
				t.Fatalf("%q is a copy, not a piece of the bytes read", s)
			}
		}
	}
}

func TestParseStatCacheFast(t *testing.T) {
	for i, s := range statCacheSeeds() {
		t.Run(fmt.Sprint(i), func(t *testing.T) { checkStatCacheFast(t, []byte(s)) })
	}
}

func FuzzParseStatCacheFast(f *testing.F) {
	for _, s := range statCacheSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(checkStatCacheFast)
}

// TestRefreshKeepsAnUnchangedCache: a plan that finds every file as the
// stat cache says leaves the cache file alone; one that finds it in
// another form than encodeStatCache's rewrites it in that form.
func TestRefreshKeepsAnUnchangedCache(t *testing.T) {
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
		t.Fatal(err)
	}
	if got := parseStatCache(data); len(got) != 2 {
		t.Fatalf("cache after the first refresh: %q", data)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(cachePath, old, old); err != nil {
		t.Fatal(err)
	}
	facts, err := refresh(dir, l, false, later())
	if err != nil {
		t.Fatal(err)
	}
	if facts["a.png"].SHA256 != sha("aaa") || facts["b.png"].SHA256 != sha("bbb") {
		t.Fatalf("facts %v", facts)
	}
	if fi, err := os.Stat(cachePath); err != nil || !fi.ModTime().Equal(old) {
		t.Fatalf("an unchanged cache was written again (%v)", err)
	}
	// The same records, lines swapped: not encodeStatCache's form.
	lines := strings.SplitAfter(strings.TrimPrefix(string(data), statCacheHeader), "\n")
	swapped := statCacheHeader + lines[1] + lines[0]
	if err := os.WriteFile(cachePath, []byte(swapped), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := refresh(dir, l, false, later()); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(cachePath); !bytes.Equal(got, data) {
		t.Fatalf("cache not rewritten in order:\n%q\nwant\n%q", got, data)
	}
}

// TestRefreshDropsRecordsOfGonePaths: a cache whose every record for the
// lockfile's paths stands, but which holds a record of a path the
// lockfile no longer names, is written again without it; one record
// whose file changed is hashed again and written, the others kept.
func TestRefreshDropsRecordsOfGonePaths(t *testing.T) {
	dir := t.TempDir()
	writeFileT(t, dir, "a.png", "aaa")
	writeFileT(t, dir, "b.png", "bbb")
	writeFileT(t, dir, "c.png", "ccc")
	if _, err := refresh(dir, lockWithPaths("a.png", "b.png", "c.png"), false, later()); err != nil {
		t.Fatal(err)
	}
	cachePath := filepath.Join(dir, WorkDirName, statCacheName)
	read := func() map[string]statRecord {
		t.Helper()
		data, err := os.ReadFile(cachePath)
		if err != nil {
			t.Fatal(err)
		}
		recs, canonical := parseStatCacheFast(data)
		if !canonical {
			t.Fatalf("cache not in encodeStatCache's form: %q", data)
		}
		return recs
	}
	all := read()
	if len(all) != 3 {
		t.Fatalf("cache after the first refresh: %v", all)
	}
	facts, err := refresh(dir, lockWithPaths("a.png", "b.png"), false, later())
	if err != nil {
		t.Fatal(err)
	}
	if facts["a.png"].SHA256 != sha("aaa") || facts["b.png"].SHA256 != sha("bbb") || len(facts) != 2 {
		t.Fatalf("facts %v", facts)
	}
	if got := read(); len(got) != 2 || got["a.png"] != all["a.png"] || got["b.png"] != all["b.png"] {
		t.Fatalf("cache after c.png left the lockfile: %v, want a.png and b.png as they were", got)
	}
	writeFileT(t, dir, "b.png", "bbbb")
	facts, err = refresh(dir, lockWithPaths("a.png", "b.png"), false, later())
	if err != nil {
		t.Fatal(err)
	}
	if facts["b.png"].SHA256 != sha("bbbb") {
		t.Fatalf("facts %v", facts)
	}
	if got := read(); len(got) != 2 || got["a.png"] != all["a.png"] || got["b.png"].SHA256 != sha("bbbb") {
		t.Fatalf("cache after b.png changed: %v", got)
	}
}

// TestRefreshManyPaths: a refresh of more paths than it looks at on one
// goroutine finds at each what is there (unchanged through the stat
// cache, rewritten, missing, a directory, under a symbolic link to a
// directory), and the checked-in files named twice once.
func TestRefreshManyPaths(t *testing.T) {
	dir := t.TempDir()
	n := parallelLookFrom + 101
	paths := make([]string, n)
	for i := range paths {
		paths[i] = fmt.Sprintf("d%d/f%04d.png", i%3, i)
		writeFileT(t, dir, paths[i], fmt.Sprint("v1 ", i))
	}
	if err := os.Symlink("d0", filepath.Join(dir, "link")); err != nil {
		t.Skip("no symbolic links:", err)
	}
	paths = append(paths, "link/f0000.png")
	l := lockWithPaths(paths...)
	extra := []string{"src.png", "src.png", paths[1]}
	writeFileT(t, dir, "src.png", "source")
	if _, err := refreshExtra(dir, l, extra, false, later(), nil); err != nil {
		t.Fatal(err)
	}
	want := map[string]FileFact{}
	for i, p := range paths[:n] {
		full := filepath.Join(dir, filepath.FromSlash(p))
		content := fmt.Sprint("v1 ", i)
		switch i % 4 {
		case 1:
			content = fmt.Sprint("version two ", i)
			writeFileT(t, dir, p, content)
		case 2:
			if err := os.Remove(full); err != nil {
				t.Fatal(err)
			}
			want[p] = FileFact{}
			continue
		case 3:
			if err := os.Remove(full); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(full, 0o755); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Lstat(full)
			if err != nil {
				t.Fatal(err)
			}
			want[p] = FileFact{Exists: true, Size: fi.Size()}
			continue
		}
		want[p] = FileFact{Exists: true, SHA256: sha(content), Size: int64(len(content)), MediaType: MediaUnknown}
	}
	want["link/f0000.png"] = FileFact{Exists: true}
	want["src.png"] = FileFact{Exists: true, SHA256: sha("source"), Size: 6, MediaType: MediaUnknown}
	for _, stats := range []*safepath.Stats{nil, safepath.NewStats(dir)} {
		facts, err := refreshExtra(dir, l, extra, false, later(), stats)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(facts, want) {
			for p, f := range want {
				if facts[p] != f {
					t.Errorf("%s: %+v, want %+v", p, facts[p], f)
				}
			}
			t.Fatalf("%d facts, want %d", len(facts), len(want))
		}
	}
}
