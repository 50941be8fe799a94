package unnamed

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// An unnamed file is named where sameDir allows it: in its own
// directory always, elsewhere only without sameDir; never over a name
// that exists.
func TestLink(t *testing.T) {
	for _, tc := range []struct {
		name    string
		sub     string // directory of the new name, under the file's
		sameDir bool
		exists  bool
		want    error
	}{
		{"own directory", "", true, false, nil},
		{"own directory through a link", "link", true, false, nil},
		{"own directory, no check", "", false, false, nil},
		{"another directory, no check", "other", false, false, nil},
		{"another directory", "other", true, false, ErrDirChanged},
		{"a name that exists", "", true, true, fs.ErrExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			f, err := Create(dir, 0o600, filepath.Join(dir, "tmp-unnamed"))
			if errors.Is(err, ErrUnsupported) {
				t.Skip("this file system makes no unnamed files")
			}
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteString("bytes"); err != nil {
				t.Fatal(err)
			}
			to := filepath.Join(dir, tc.sub)
			if tc.sub == "link" {
				// The same directory by another path, which the
				// kernel's path of the file does not name.
				if err := os.Symlink(dir, to); err != nil {
					t.Fatal(err)
				}
			} else if err := os.MkdirAll(to, 0o755); err != nil {
				t.Fatal(err)
			}
			name := filepath.Join(to, "a.png")
			if tc.exists {
				if err := os.WriteFile(name, []byte("old"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			err = Link(f, name, tc.sameDir)
			if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("Link = %v, want %v", err, tc.want)
			}
			if tc.want == nil {
				if b, err := os.ReadFile(name); err != nil || string(b) != "bytes" {
					t.Errorf("%s holds %q, %v", name, b, err)
				}
			}
		})
	}
}

// A file whose directory is removed while it is written, and replaced by
// a symbolic link to another directory, is not named through that link:
// the kernel's path of the file and the open of the name's directory both
// follow the new link, so only the directory the file was made in may
// take its name.
func TestLinkDirSwappedForLink(t *testing.T) {
	root := t.TempDir()
	dir, elsewhere := filepath.Join(root, "out"), filepath.Join(root, "elsewhere")
	for _, d := range []string{dir, elsewhere} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	f, err := Create(dir, 0o600, filepath.Join(dir, "tmp-unnamed"))
	if errors.Is(err, ErrUnsupported) {
		t.Skip("this file system makes no unnamed files")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("bytes"); err != nil {
		t.Fatal(err)
	}
	// The unnamed file gives the directory no entry: it can be removed.
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, dir); err != nil {
		t.Fatal(err)
	}
	err = Link(f, filepath.Join(dir, "a.png"), true)
	if !errors.Is(err, ErrDirChanged) {
		t.Errorf("Link = %v, want %v", err, ErrDirChanged)
	}
	if _, err := os.Lstat(filepath.Join(elsewhere, "a.png")); err == nil {
		t.Errorf("the file was named in %s, through the link", elsewhere)
	}
}
