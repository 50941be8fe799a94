package unnamed

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// OpenDir follows no symbolic link under its root, at any depth, and
// says which directories are missing; with openat2 or without.
func TestOpenDir(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"a/b", "elsewhere"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(root, "elsewhere"), filepath.Join(root, "a/link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("b", filepath.Join(root, "a/rel")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "a/file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		rel  string
		want error // nil, ErrSymlink, fs.ErrNotExist, unix.ENOTDIR
	}{
		{".", nil},
		{"a", nil},
		{"a/b", nil},
		{"a/link", ErrSymlink},
		{"a/rel", ErrSymlink},
		{"a/link/x", ErrSymlink},
		{"a/missing", fs.ErrNotExist},
		{"a/missing/x", fs.ErrNotExist},
		{"a/file", unix.ENOTDIR},
	} {
		for _, walk := range []bool{false, true} {
			var err error
			if walk {
				var rfd, fd int
				if rfd, err = openPath(unix.AT_FDCWD, root, 0); err != nil {
					t.Fatal(err)
				}
				if tc.rel == "." {
					fd = rfd
				} else {
					fd, err = walkBeneath(rfd, tc.rel)
					unix.Close(rfd)
				}
				if err == nil {
					unix.Close(fd)
				}
			} else {
				var d *Dir
				if d, err = OpenDir(root, tc.rel); err == nil {
					d.Close()
				}
			}
			if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Errorf("open %s (walk %v) = %v, want %v", tc.rel, walk, err, tc.want)
			}
		}
	}
}

// A file made in a Dir is named in that directory, and nowhere else
// once its path has been removed and replaced by a symbolic link to
// another directory; a name that exists is not replaced, and Rename
// replaces it.
func TestDirLink(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"out", "elsewhere"} {
		if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	d, err := OpenDir(root, "out")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	make := func(s string) *os.File {
		f, err := d.Create(0o644, "tmp-unnamed")
		if errors.Is(err, ErrUnsupported) {
			t.Skip("this file system makes no unnamed files")
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(s); err != nil {
			t.Fatal(err)
		}
		return f
	}
	f := make("one")
	defer f.Close()
	if err := d.Link(f, "a.png"); err != nil {
		t.Fatal(err)
	}
	g := make("two")
	defer g.Close()
	if err := d.Link(g, "a.png"); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Link over a name = %v, want fs.ErrExist", err)
	}
	if err := d.Link(g, "tmp"); err != nil {
		t.Fatal(err)
	}
	if err := d.Rename("tmp", "a.png"); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(root, "out/a.png")); err != nil || string(b) != "two" {
		t.Errorf("out/a.png holds %q, %v", b, err)
	}

	// Swapped: the directory removed, a link to elsewhere in its place.
	h := make("three")
	defer h.Close()
	if err := os.RemoveAll(filepath.Join(root, "out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "elsewhere"), filepath.Join(root, "out")); err != nil {
		t.Fatal(err)
	}
	if err := d.Link(h, "b.png"); !errors.Is(err, ErrDirChanged) {
		t.Errorf("Link after the swap = %v, want %v", err, ErrDirChanged)
	}
	if _, err := d.Create(0o644, "tmp-unnamed"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Create in a removed directory = %v, want fs.ErrNotExist", err)
	}
	if des, _ := os.ReadDir(filepath.Join(root, "elsewhere")); len(des) != 0 {
		t.Errorf("elsewhere holds %d names, made through the link", len(des))
	}
}

// CreateExcl makes a new file in the directory held, wherever it has
// been moved, never through a symbolic link at the name, and never over a
// name that exists.
func TestDirCreateExcl(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{"work/out", "elsewhere"} {
		if err := os.MkdirAll(filepath.Join(root, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	d, err := OpenDir(filepath.Join(root, "work"), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := os.Symlink(filepath.Join(root, "elsewhere", "x"), filepath.Join(root, "work/out/link")); err != nil {
		t.Fatal(err)
	}
	if f, err := d.CreateExcl("link", 0o600); !errors.Is(err, fs.ErrExist) {
		if f != nil {
			f.Close()
		}
		t.Errorf("CreateExcl over a symbolic link: %v, want an error that is fs.ErrExist", err)
	}
	if _, err := os.Lstat(filepath.Join(root, "elsewhere", "x")); err == nil {
		t.Errorf("CreateExcl made a file through a symbolic link")
	}
	if err := os.Rename(filepath.Join(root, "work/out"), filepath.Join(root, "moved")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "elsewhere"), filepath.Join(root, "work/out")); err != nil {
		t.Fatal(err)
	}
	f, err := d.CreateExcl("a", 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if f.Name() != filepath.Join(root, "work/out/a") {
		t.Errorf("name %q, want the path d was opened at", f.Name())
	}
	if _, err := os.Lstat(filepath.Join(root, "moved", "a")); err != nil {
		t.Errorf("not made in the directory held: %v", err)
	}
	if got, _ := os.ReadDir(filepath.Join(root, "elsewhere")); len(got) != 0 {
		t.Errorf("made through the link at the directory's path: %v", got)
	}
	if f, err := d.CreateExcl("a", 0o600); !errors.Is(err, fs.ErrExist) {
		if f != nil {
			f.Close()
		}
		t.Errorf("CreateExcl of a name that exists: %v, want an error that is fs.ErrExist", err)
	}
}

// ReadDir lists the directory where it is now, moved away, and names a
// symbolic link in it as one, without following it.
func TestDirReadDir(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	d, err := OpenDir(root, "out")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := os.WriteFile(filepath.Join(root, "out", "a"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(root, filepath.Join(root, "out", "l")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(root, "out"), filepath.Join(root, "moved")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	des, err := d.ReadDir()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]fs.FileMode{}
	for _, de := range des {
		got[de.Name()] = de.Type()
	}
	if len(got) != 2 || got["a"] != 0 || got["l"] != fs.ModeSymlink {
		t.Errorf("ReadDir of the moved directory = %v, want a (a file) and l (a link)", got)
	}
}

// TestMkdirAllFollowsNoLink: MkdirAll makes the missing directories of a
// path, and nothing through a symbolic link on the way (to a directory
// outside root): ErrSymlink, and the directory outside stays empty.
func TestMkdirAllFollowsNoLink(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	if err := MkdirAll(root, "a/b/c", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := MkdirAll(root, "a/b/c", 0o755); err != nil {
		t.Errorf("again: %v", err)
	}
	if fi, err := os.Lstat(filepath.Join(root, "a", "b", "c")); err != nil || !fi.IsDir() {
		t.Fatalf("a/b/c: %v", err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "out")); err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"out/x", "out/x/y", "out"} {
		if err := MkdirAll(root, rel, 0o755); !errors.Is(err, ErrSymlink) {
			t.Errorf("MkdirAll(%s) through a link: %v, want ErrSymlink", rel, err)
		}
	}
	if des, _ := os.ReadDir(outside); len(des) != 0 {
		t.Errorf("made outside root through the link: %v", des)
	}
	if err := os.WriteFile(filepath.Join(root, "f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := MkdirAll(root, "f/g", 0o755); err == nil {
		t.Error("MkdirAll through a file: no error")
	}
	if err := MkdirAll(root, "a/../../escaped", 0o755); err == nil {
		t.Error("MkdirAll of a path that leaves root: no error")
	}
	if _, err := os.Lstat(filepath.Join(filepath.Dir(root), "escaped")); err == nil {
		t.Error("made a directory outside root")
	}
	rfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(rfd)
	if fd, err := walkBeneath(rfd, "a/../.."); !errors.Is(err, unix.EXDEV) {
		if err == nil {
			unix.Close(fd)
		}
		t.Errorf("walkBeneath of a path that leaves its directory: %v, want EXDEV", err)
	}
}
