package state

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/internal/safepath"
	"github.com/pixform/pixform/media"
)

func TestCheckLockPaths(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "real"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "out")); err != nil {
		t.Skip("no symbolic links:", err)
	}
	if err := os.Symlink("real", filepath.Join(dir, "in")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "real", "a.png"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a.png", filepath.Join(dir, "real", "l.png")); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		path string
		want string // "" when accepted; else substrings
	}{
		"plain":         {"real/a.png", ""},
		"missing":       {"new/b.png", ""},
		"outside link":  {"out/victim.png", `"out"`},
		"inside link":   {"in/a.png", `"in"`},
		"leaf link":     {"real/l.png", `is a symbolic link`},
		"under missing": {"new/out/x.png", ""},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			entry := strings.Replace(validEntryJSON, `"a/b.png"`, `"`+tt.path+`"`, 1)
			data := []byte("{\"version\": 1, \"images\": {\"image.z\": " + validEntryJSON + ",\n\"image.a\": " + strings.Replace(entry, `"path"`, "\n\"path\"", 1) + "}}")
			data = []byte(strings.Replace(string(data), `"a/b.png"`, `"zz/b.png"`, 1))
			lock, err := ParseLock(data, "f.json")
			if err != nil {
				t.Fatal(err)
			}
			err = CheckLockPaths(dir, lock, data, "f.json")
			// Through a plan's Stats, the same answer.
			if serr := CheckLockPathsStats(dir, lock, data, "f.json", safepath.NewStats(dir)); fmt.Sprint(serr) != fmt.Sprint(err) {
				t.Fatalf("through a Stats: %v; without: %v", serr, err)
			}
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range []string{"f.json:7:9", `"image.a"`, tt.path, tt.want, "symbolic link", "replace it with the real directory or file"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestCheckLockPathsFirstInOrder: of several entries whose paths go
// through a symbolic link, the error names the first in address order,
// whatever order the lockfile's map gives.
func TestCheckLockPathsFirstInOrder(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "real"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real", filepath.Join(dir, "in")); err != nil {
		t.Skip("no symbolic links:", err)
	}
	if err := os.Symlink("a.png", filepath.Join(dir, "real", "l.png")); err != nil {
		t.Fatal(err)
	}
	entry := func(p string) string { return strings.Replace(validEntryJSON, `"a/b.png"`, `"`+p+`"`, 1) }
	data := []byte("{\"version\": 1, \"images\": {" +
		"\"image.d\": " + entry("real/ok.png") + ",\n" +
		"\"image.c\": " + entry("real/l.png") + ",\n" +
		"\"image.b\": " + entry("in/x.png") + ",\n" +
		"\"image.e\": " + entry("in/y.png") + ",\n" +
		"\"image.a\": " + entry("real/fine.png") + "}}")
	lock, err := ParseLock(data, "f.json")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		err := CheckLockPaths(dir, lock, data, "f.json")
		if i%2 == 1 { // through a plan's Stats
			err = CheckLockPathsStats(dir, lock, data, "f.json", safepath.NewStats(dir))
		}
		if err == nil || !strings.Contains(err.Error(), `"image.b"`) || !strings.Contains(err.Error(), "in/x.png") {
			t.Fatalf("got %v, want the error of image.b", err)
		}
	}
}

// FuzzLockPaths feeds arbitrary path strings (JSON string bodies, so that
// escapes are exercised) for two entries through the lockfile parser and
// the disk check: no panic, and every accepted path is relative, clean,
// inside the directory, not pixform's own or version control's, an image
// by its extension, not equal case-folded to the other, and refused on disk when it goes through a symbolic link.
func FuzzLockPaths(f *testing.F) {
	for _, s := range [][2]string{
		{"a/b.png", "c.png"},
		{"a/b.png", "A/B.png"},
		{"lnk/victim.png", "x.png"},
		{"../x.png", "x.png"},
		{".PIXFORM/x.png", "x.png"},
		{`\u002e\u002e/x.png`, "x.png"},
		{`a\\..\\..\\x.png`, "x.png"},
		{"C:/x.png", "x.png"},
		{`\u212a.png`, "k.png"},
		{"./a.png", "a//b.png"},
		{"pixform.lock.json", "a/pixform.lock.json"},
		{".git/HEAD", "x.png"},
		{"a/.GIT/x.png", "main.pix.hcl"},
		{`.g\u200cit/x.png`, `.git./x.png`},
	} {
		f.Add(s[0], s[1])
	}
	dir := f.TempDir()
	if err := os.Symlink(f.TempDir(), filepath.Join(dir, "lnk")); err != nil {
		f.Skip("no symbolic links:", err)
	}
	f.Fuzz(func(t *testing.T, p1, p2 string) {
		e1 := strings.Replace(validEntryJSON, `"a/b.png"`, `"`+p1+`"`, 1)
		e2 := strings.Replace(validEntryJSON, `"a/b.png"`, `"`+p2+`"`, 1)
		data := []byte(`{"version": 1, "images": {"image.a": ` + e1 + ",\n" + `"image.b": ` + e2 + `}}`)
		l, err := ParseLock(data, "fuzz.json")
		if err != nil {
			var le *LockError
			if !errors.As(err, &le) {
				t.Fatalf("error %T is not a *LockError: %v", err, err)
			}
			return
		}
		var paths []string
		for _, e := range l.Images {
			p := e.Path
			paths = append(paths, p)
			first, _, _ := strings.Cut(p, "/")
			switch {
			case p == "" || p == "." || path.IsAbs(p) || len(p) >= 2 && p[1] == ':':
				t.Fatalf("accepted %q: not relative", p)
			case path.Clean(p) != p:
				t.Fatalf("accepted %q: not clean", p)
			case p == ".." || strings.HasPrefix(p, "../"):
				t.Fatalf("accepted %q: leaves the directory", p)
			case strings.ContainsAny(p, "\\\x00"):
				t.Fatalf("accepted %q: backslash or NUL", p)
			case strings.EqualFold(first, WorkDirName) || strings.EqualFold(p, LockFileName):
				t.Fatalf("accepted %q: pixform's own", p)
			case !media.Known(mediaOf(p)):
				t.Fatalf("accepted %q: names no image", p)
			}
			for c := range strings.SplitSeq(p, "/") {
				for _, v := range []string{".git", ".hg", ".svn"} {
					if strings.EqualFold(strings.TrimRight(c, ". "), v) {
						t.Fatalf("accepted %q: version control's own", p)
					}
				}
			}
		}
		if len(paths) == 2 && strings.EqualFold(paths[0], paths[1]) {
			t.Fatalf("accepted %q and %q: one file case-folded", paths[0], paths[1])
		}
		err = CheckLockPaths(dir, l, data, "fuzz.json")
		for _, p := range paths {
			if first, _, _ := strings.Cut(p, "/"); first == "lnk" && err == nil {
				t.Fatalf("accepted %q on disk: through the symbolic link lnk", p)
			}
		}
		var le *LockError
		if err != nil && (!errors.As(err, &le) || le.Line == 0) {
			t.Fatalf("disk error without a line: %v", err)
		}
	})
}

// mediaOf is the media type p's extension names, or "".
func mediaOf(p string) string {
	mt, _ := media.OfPath(p)
	return mt
}

// BenchmarkCheckLockPaths is the cost that plan and apply add to check a
// lockfile of 10,000 images, in 100 directories, on disk.
func BenchmarkCheckLockPaths(b *testing.B) {
	dir := b.TempDir()
	lock := NewLock()
	for i := range 10000 {
		e := entryN(i)
		e.Path = fmt.Sprintf("d%02d/img-%05d.png", i%100, i)
		lock.Images[addrs.MustParse(fmt.Sprintf("image.img[%d]", i))] = e
		full := filepath.Join(dir, filepath.FromSlash(e.Path))
		if i < 100 {
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				b.Fatal(err)
			}
		}
		if err := os.WriteFile(full, []byte("x"), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	data := lock.Marshal()
	b.ResetTimer()
	for range b.N {
		if err := CheckLockPaths(dir, lock, data, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}
