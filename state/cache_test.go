package state

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

func TestCachePutOpen(t *testing.T) {
	d1 := Inputs{Prompt: "a", Style: "flux-dev", AspectRatio: "1:1", Seed: 1}.Digest()
	d2 := Inputs{Prompt: "b", Style: "flux-dev", AspectRatio: "1:1", Seed: 1}.Digest()
	tests := map[string]struct {
		puts     [][3]string // digest, provider, content (file ext .png)
		get      [2]string
		want     string // content, or "" for not cached
		wantKeys int
	}{
		"empty":            {nil, [2]string{d1, "imagine"}, "", 0},
		"put and get":      {[][3]string{{d1, "imagine", "png1"}}, [2]string{d1, "imagine"}, "png1", 1},
		"other provider":   {[][3]string{{d1, "draft", "png1"}}, [2]string{d1, "imagine"}, "", 1},
		"other digest":     {[][3]string{{d2, "imagine", "png1"}}, [2]string{d1, "imagine"}, "", 1},
		"replaced":         {[][3]string{{d1, "imagine", "old"}, {d1, "imagine", "new"}}, [2]string{d1, "imagine"}, "new", 1},
		"two keys":         {[][3]string{{d1, "imagine", "x"}, {d2, "imagine", "y"}}, [2]string{d2, "imagine"}, "y", 2},
		"same bytes twice": {[][3]string{{d1, "imagine", "x"}, {d1, "imagine", "x"}}, [2]string{d1, "imagine"}, "x", 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			c := OpenCache(dir)
			for i, p := range tc.puts {
				src := filepath.Join(dir, "out", "img.png")
				writeFileT(t, dir, "out/img.png", p[2])
				if err := c.Put(p[0], p[1], src, ""); err != nil {
					t.Fatalf("put %d: %v", i, err)
				}
			}
			// A fresh Cache lists the directory and sees the same.
			for _, cc := range []*Cache{c, OpenCache(dir)} {
				if got := len(cc.Keys()); got != tc.wantKeys {
					t.Fatalf("%d keys, want %d", got, tc.wantKeys)
				}
				if cc.Has(tc.get[0], tc.get[1]) != (tc.want != "") {
					t.Fatalf("Has = %v", !(tc.want != ""))
				}
				r, err := cc.Open(tc.get[0], tc.get[1])
				if tc.want == "" {
					if !errors.Is(err, fs.ErrNotExist) {
						t.Fatalf("Open of a missing key: %v", err)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				b, err := io.ReadAll(r)
				r.Close()
				if err != nil || string(b) != tc.want {
					t.Fatalf("read %q, %v; want %q", b, err, tc.want)
				}
				info, _ := cc.Info(tc.get[0], tc.get[1])
				if info.SHA256 != sha(tc.want) || info.Ext != ".png" {
					t.Fatalf("info %+v", info)
				}
			}
			// The renders are records of one pack; no temporary is left.
			packs, loose := cacheFiles(t, dir)
			if wantPacks := min(len(tc.puts), 1); len(packs) != wantPacks || len(loose) != 0 {
				t.Fatalf("cache directory holds packs %v and files %v, want %d pack and no other file", packs, loose, wantPacks)
			}
		})
	}
}

func TestCacheIsACopy(t *testing.T) {
	dir := t.TempDir()
	d := Inputs{Prompt: "a", Style: "s", AspectRatio: "1:1", Seed: 1}.Digest()
	writeFileT(t, dir, "a.jpg", "original")
	c := OpenCache(dir)
	if err := c.Put(d, "imagine", filepath.Join(dir, "a.jpg"), ""); err != nil {
		t.Fatal(err)
	}
	// Editing the output in place must not change the cached render.
	writeFileT(t, dir, "a.jpg", "edited!!")
	r, err := c.Open(d, "imagine")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if b, err := io.ReadAll(r); err != nil || string(b) != "original" {
		t.Fatalf("got %q, %v", b, err)
	}
}

// An output edited in place (appended to, or rewritten through the same
// inode as cp does) never changes what the cache holds: Put and Keep
// keep a copy, never the output's own file.
func TestCacheNeverSharesTheOutput(t *testing.T) {
	edits := map[string]func(t *testing.T, p string){
		"rewritten": func(t *testing.T, p string) {
			if err := os.WriteFile(p, []byte("edited!!"), 0o644); err != nil {
				t.Fatal(err)
			}
		},
		"appended": func(t *testing.T, p string) {
			f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString("x")
			f.Close()
		},
	}
	puts := map[string]func(t *testing.T, c *Cache, dir, d, sum string) string{
		"put": func(t *testing.T, c *Cache, dir, d, sum string) string {
			writeFileT(t, dir, "out/a.png", "original")
			if err := c.Put(d, "imagine", filepath.Join(dir, "out", "a.png"), sum); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(dir, "out", "a.png")
		},
		"keep": func(t *testing.T, c *Cache, dir, d, sum string) string {
			target := filepath.Join(dir, "out", "a.png")
			f, err := CreateTemp(target)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString("original")
			if err := c.Keep(d, "imagine", f, ".png", sum); err != nil {
				t.Fatal(err)
			}
			if err := RenameTemp(f, target); err != nil {
				t.Fatal(err)
			}
			return target
		},
	}
	for pn, put := range puts {
		for en, edit := range edits {
			t.Run(pn+"/"+en, func(t *testing.T) {
				dir := t.TempDir()
				d := Inputs{Prompt: "a", Style: "s", AspectRatio: "1:1", Seed: 1}.Digest()
				c := OpenCache(dir)
				out := put(t, c, dir, d, sha("original"))
				des, _ := os.ReadDir(c.dir)
				if len(des) != 1 {
					t.Fatalf("cache holds %d files", len(des))
				}
				oi, _ := os.Stat(out)
				ci, _ := os.Stat(filepath.Join(c.dir, des[0].Name()))
				if os.SameFile(oi, ci) {
					t.Fatalf("the cache entry is the output's own file (a hard link to it)")
				}
				edit(t, out)
				for _, cc := range []*Cache{c, OpenCache(dir)} {
					if !cc.Intact(d, "imagine") {
						t.Fatal("the cached copy changed with the output")
					}
					r, err := cc.Open(d, "imagine")
					if err != nil {
						t.Fatal(err)
					}
					b, err := io.ReadAll(r)
					r.Close()
					if err != nil || string(b) != "original" {
						t.Fatalf("got %q, %v", b, err)
					}
				}
			})
		}
	}
}

// A cached file whose bytes no longer match its name (damaged, or an
// output edited in place through a link an older pixform made) is found
// by Intact, said by Damaged, and replaced by the next Put or Keep of
// the same render, even one of the very same bytes.
func TestCacheDamagedIsFoundAndReplaced(t *testing.T) {
	for _, how := range []string{"put", "keep"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			d := Inputs{Prompt: "a", Style: "s", AspectRatio: "1:1", Seed: 1}.Digest()
			other := Inputs{Prompt: "b", Style: "s", AspectRatio: "1:1", Seed: 1}.Digest()
			sum := sha("original")
			name := d + "-imagine-" + sum + ".png"
			writeFileT(t, dir, filepath.Join(WorkDirName, cacheDirName, name), "edited!!")
			c := OpenCache(dir)
			if c.Damaged(d, "imagine") {
				t.Fatal("Damaged before any check")
			}
			if c.Intact(d, "imagine") || !c.Damaged(d, "imagine") {
				t.Fatalf("Intact %v, Damaged %v of a damaged file", c.Intact(d, "imagine"), c.Damaged(d, "imagine"))
			}
			if c.Intact(other, "imagine") || c.Damaged(other, "imagine") {
				t.Fatal("a key not cached is intact or damaged")
			}
			if !c.Has(d, "imagine") {
				t.Fatal("Has forgets a damaged file")
			}
			switch how {
			case "put":
				writeFileT(t, dir, "a.png", "original")
				if err := c.Put(d, "imagine", filepath.Join(dir, "a.png"), sum); err != nil {
					t.Fatal(err)
				}
			case "keep":
				f, err := CreateTemp(filepath.Join(dir, "a.png"))
				if err != nil {
					t.Fatal(err)
				}
				defer AbortTemp(f)
				f.WriteString("original")
				if err := c.Keep(d, "imagine", f, ".png", sum); err != nil {
					t.Fatal(err)
				}
			}
			if c.Damaged(d, "imagine") || !c.Intact(d, "imagine") {
				t.Fatal("the render put again is still damaged")
			}
			// The damaged loose file is gone; the render is a pack's.
			if _, err := os.Lstat(filepath.Join(dir, WorkDirName, cacheDirName, name)); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("the damaged file is left: %v", err)
			}
			wantServed(t, OpenCache(dir), d, "imagine", "original")
		})
	}
}

func TestCacheDetectsCorruption(t *testing.T) {
	d := Inputs{Prompt: "a", Style: "s", AspectRatio: "1:1", Seed: 1}.Digest()
	for _, how := range []string{"pack", "loose"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			switch how {
			case "pack":
				writeFileT(t, dir, "a.png", "original")
				c := OpenCache(dir)
				if err := c.Put(d, "draft", filepath.Join(dir, "a.png"), ""); err != nil {
					t.Fatal(err)
				}
				c.Close()
				c = OpenCache(dir)
				c.load()
				_, f, _ := c.lookupLocked(d, "draft")
				pf, err := os.OpenFile(c.packPath(f), os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				pf.WriteAt([]byte("damaged!"), f.off)
				pf.Close()
			case "loose":
				writeFileT(t, dir, filepath.Join(WorkDirName, cacheDirName, d+"-draft-"+sha("original")+".png"), "damaged")
			}
			r, err := OpenCache(dir).Open(d, "draft")
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if _, err := io.ReadAll(r); !errors.Is(err, ErrCacheCorrupt) {
				t.Fatalf("read of a damaged render: %v", err)
			}
		})
	}
}

func TestCacheIgnoresStrangers(t *testing.T) {
	dir := t.TempDir()
	d := Inputs{Seed: 1}.Digest()
	for _, n := range []string{
		"README", d + "-imagine.png", d + "-imagine-" + d + ".gif", d + "-Bad!-" + d + ".png",
		".pixform-tmp-put-123", d + "--" + d + ".png",
	} {
		writeFileT(t, dir, filepath.Join(WorkDirName, cacheDirName, n), "x")
	}
	writeFileT(t, dir, filepath.Join(WorkDirName, cacheDirName, d+"-draft-"+d+".jpeg"), "x")
	keys := OpenCache(dir).Keys()
	if len(keys) != 1 || !keys[CacheKey(d, "draft")] {
		t.Fatalf("keys %v", keys)
	}
}

func TestCachePutErrors(t *testing.T) {
	dir := t.TempDir()
	d := Inputs{Seed: 1}.Digest()
	writeFileT(t, dir, "a.gif", "x")
	tests := map[string]struct {
		digest, provider, src, want string
	}{
		"bad digest":   {"abc", "imagine", "a.png", "invalid key"},
		"bad provider": {d, "../x", "a.png", "invalid key"},
		"bad ext":      {d, "imagine", "a.gif", "extension"},
		"missing src":  {d, "imagine", "nope.png", "no such file"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := OpenCache(dir).Put(tc.digest, tc.provider, filepath.Join(dir, tc.src), "")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestCacheConcurrentPuts(t *testing.T) {
	dir := t.TempDir()
	c := OpenCache(dir)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			d := Inputs{Prompt: "p", Seed: int64(i + 1)}.Digest()
			rel := filepath.Join("out", d+".png")
			writeFileT(t, dir, rel, d)
			if err := c.Put(d, "imagine", filepath.Join(dir, rel), ""); err != nil {
				t.Error(err)
			}
			_ = c.Has(d, "imagine")
		})
	}
	wg.Wait()
	if n := len(OpenCache(dir).Keys()); n != 8 {
		t.Fatalf("%d keys, want 8", n)
	}
}

// The cache keeps no file name per render: the name follows from the key
// and the render's hash and format, exactly as the file is named.
func TestCacheFileName(t *testing.T) {
	d := strings.Repeat("ab", 32)
	sum := strings.Repeat("0f", 32)
	for _, name := range []string{
		d + "-imagine-" + sum + ".png",
		d + "-draft-" + sum + ".jpg",
		d + "-imagine_2-" + sum + ".jpeg",
	} {
		digest, provider, info, ok := parseCacheName(name)
		if !ok {
			t.Errorf("parseCacheName(%q): not a cache name", name)
			continue
		}
		c := OpenCache(t.TempDir())
		c.load()
		k, kok := c.key(digest, provider)
		f, fok := file(info)
		if !kok || !fok {
			t.Errorf("%q: key %v, file %v", name, kok, fok)
			continue
		}
		if got := f.name(k); got != name {
			t.Errorf("name of %q = %q", name, got)
		}
		if got := f.info(); got != info {
			t.Errorf("info of %q = %+v, want %+v", name, got, info)
		}
	}
}

// The cache holds keys and hashes in binary: what is not a lower-case hex
// SHA-256, or not an image's extension, is never cached, and Info gives
// back what Put recorded.
func TestCacheCompactKeys(t *testing.T) {
	d := strings.Repeat("ab", 32)
	sum := strings.Repeat("0f", 32)
	tests := map[string]struct {
		digest, provider, sum, ext string
		key, file                  bool
	}{
		"png":             {d, "imagine", sum, ".png", true, true},
		"jpeg":            {d, "draft", sum, ".jpeg", true, true},
		"upper digest":    {strings.ToUpper(d), "imagine", sum, ".png", false, true},
		"short digest":    {d[:62], "imagine", sum, ".png", false, true},
		"upper sum":       {d, "imagine", strings.ToUpper(sum), ".png", true, false},
		"not an image":    {d, "imagine", sum, ".gif", true, false},
		"upper extension": {d, "imagine", sum, ".PNG", true, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := OpenCache(t.TempDir())
			c.load()
			k, kok := c.key(tc.digest, tc.provider)
			info := CacheInfo{SHA256: tc.sum, Ext: tc.ext}
			f, fok := file(info)
			if kok != tc.key || fok != tc.file {
				t.Fatalf("key ok %v, file ok %v; want %v, %v", kok, fok, tc.key, tc.file)
			}
			if !kok || !fok {
				return
			}
			c.entries[k] = f
			got, ok := c.Info(tc.digest, tc.provider)
			if !ok || got != info {
				t.Errorf("Info = %+v, %v; want %+v", got, ok, info)
			}
			if keys := c.Keys(); !keys[CacheKey(tc.digest, tc.provider)] || len(keys) != 1 {
				t.Errorf("Keys = %v", keys)
			}
			// A provider name cut from a longer string is held as a copy.
			long := "x" + tc.provider
			k2, _ := c.key(tc.digest, long[1:])
			if unsafe.StringData(k2.provider) == unsafe.StringData(long[1:]) {
				t.Errorf("the key holds the caller's provider string")
			}
		})
	}
}
