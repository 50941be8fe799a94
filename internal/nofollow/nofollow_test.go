package nofollow

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// OpenFile never follows a symbolic link at the name, whatever the flags:
// the open fails with ELOOP, and the link's target is neither read,
// created, truncated nor written.
func TestOpenFileRefusesLink(t *testing.T) {
	for name, flag := range map[string]int{
		"read":           os.O_RDONLY,
		"create":         os.O_RDWR | os.O_CREATE,
		"truncate":       os.O_WRONLY | os.O_TRUNC,
		"append":         os.O_WRONLY | os.O_CREATE | os.O_APPEND,
		"read, to a dir": os.O_RDONLY,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			target := filepath.Join(dir, "target")
			if name == "read, to a dir" {
				if err := os.Mkdir(target, 0o755); err != nil {
					t.Fatal(err)
				}
			} else if err := os.WriteFile(target, []byte("secret"), 0o644); err != nil {
				t.Fatal(err)
			}
			link := filepath.Join(dir, "link")
			if err := os.Symlink(target, link); err != nil {
				t.Skipf("no symbolic links here: %v", err)
			}
			if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Skipf("the file system made no symbolic link (lstat %v, %v)", fi, err)
			}
			f, err := OpenFile(link, flag, 0o644)
			if err == nil {
				f.Close()
				t.Fatalf("OpenFile of a link with flags %#x succeeded", flag)
			}
			if !errors.Is(err, syscall.ELOOP) {
				t.Errorf("error %v does not wrap ELOOP", err)
			}
			if name != "read, to a dir" {
				if data, err := os.ReadFile(target); err != nil || string(data) != "secret" {
					t.Errorf("the target holds %q, %v; want it untouched", data, err)
				}
			}
		})
	}
}

// A dangling link is not created through.
func TestOpenFileCreatesNotThroughDanglingLink(t *testing.T) {
	dir := t.TempDir()
	target, link := filepath.Join(dir, "target"), filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Skipf("the file system made no symbolic link (lstat %v, %v)", fi, err)
	}
	f, err := OpenFile(link, os.O_RDWR|os.O_CREATE, 0o644)
	if err == nil {
		f.Close()
	}
	if !errors.Is(err, syscall.ELOOP) {
		t.Errorf("OpenFile(O_CREATE) of a dangling link: %v, want ELOOP", err)
	}
	if _, err := os.Lstat(target); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the link's target was made: %v", err)
	}
}

// A regular file opens as os.OpenFile opens it; O_TRUNC truncates it.
func TestOpenFileRegular(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("old bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("new"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(p); err != nil || string(data) != "new" {
		t.Errorf("file holds %q, %v; want %q", data, err, "new")
	}
	f, err = OpenFile(filepath.Join(filepath.Dir(p), "new"), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
}
