//go:build !linux

package unnamed

import (
	"io/fs"
	"os"
)

// Create makes no unnamed file here.
func Create(dir string, perm uint32, name string) (*os.File, error) { return nil, ErrUnsupported }

// Link is never called here (Create makes no file).
func Link(f *os.File, name string, sameDir bool) error {
	return &os.LinkError{Op: "link", Old: f.Name(), New: name, Err: ErrUnsupported}
}

// Dir is never made here.
type Dir struct{ path string }

// OpenDir opens no directory here (Create makes no file).
func OpenDir(root, rel string) (*Dir, error) { return nil, ErrUnsupported }

// Path is the path d was opened at.
func (d *Dir) Path() string { return d.path }

// Close does nothing here.
func (d *Dir) Close() error { return nil }

// Create makes no unnamed file here.
func (d *Dir) Create(perm uint32, name string) (*os.File, error) { return nil, ErrUnsupported }

// CreateExcl is never called here.
func (d *Dir) CreateExcl(base string, perm uint32) (*os.File, error) { return nil, ErrUnsupported }

// Link is never called here.
func (d *Dir) Link(f *os.File, base string) error { return ErrUnsupported }

// Rename is never called here.
func (d *Dir) Rename(from, to string) error { return ErrUnsupported }

// Holds is never called here.
func (d *Dir) Holds(f *os.File) error { return ErrUnsupported }

// RenameTo is never called here.
func (d *Dir) RenameTo(from string, to *Dir, name string) error { return ErrUnsupported }

// Remove is never called here.
func (d *Dir) Remove(name string) error { return ErrUnsupported }

// ReadDir lists nothing here (OpenDir opens no directory).
func (d *Dir) ReadDir() ([]fs.DirEntry, error) { return nil, ErrUnsupported }

// MkdirAll is os.MkdirAll of rel under root where no directory can be
// opened without following links: ErrUnsupported, for the caller to
// fall back.
func MkdirAll(root, rel string, perm os.FileMode) error { return ErrUnsupported }
