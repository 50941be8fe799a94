//go:build !linux

package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// Where there is no openat2 nor the Linux descriptors the walk relies on,
// a file is checked by its path (ResolveInside) and then opened by the
// path it resolves to, and a name that cannot be resolved is refused.

type sourceRoot struct{ dir string }

func openRoot(dir string) (*sourceRoot, error) { return &sourceRoot{dir: dir}, nil }

func (r *sourceRoot) close() {}

type opened struct {
	f    *os.File
	path string
}

func (o *opened) close() { o.f.Close() }

// NotInside is a variable file that a saved plan names outside the
// working directory.
type NotInside struct {
	Path string
}

func (e *NotInside) Error() string {
	return e.Path + " is outside the working directory"
}

func (r *sourceRoot) open(name string, strict, forWrite bool) (*opened, error) {
	if strict {
		clean := filepath.Clean(name)
		if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
			abs, err := filepath.Abs(clean)
			base, berr := filepath.Abs(r.dir)
			if err != nil || berr != nil || !within(base, abs) {
				return nil, &NotInside{Path: name}
			}
		}
	}
	open, err := ResolveInside(r.dir, name)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(open)
	if err != nil {
		return nil, err
	}
	return &opened{f: f, path: open}, nil
}

var errChanged = errors.New("it changed since it was read")

func (o *opened) replace(data []byte, shown string) error {
	was, err := o.f.Stat()
	if err != nil {
		return err
	}
	if now, err := os.Lstat(o.path); err != nil || !os.SameFile(was, now) {
		return errChanged
	}
	var b [8]byte
	rand.Read(b[:])
	tmp := filepath.Join(filepath.Dir(o.path), ".pixform-tmp-fmt-"+hex.EncodeToString(b[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, was.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	f.Close()
	if err := os.Rename(tmp, o.path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
