package state

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
