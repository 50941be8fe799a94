//go:build !linux

package unnamed

import "os"

// Create makes no unnamed file here.
func Create(dir string, perm uint32, name string) (*os.File, error) { return nil, ErrUnsupported }

// Link is never called here (Create makes no file).
func Link(f *os.File, name string, sameDir bool) error {
	return &os.LinkError{Op: "link", Old: f.Name(), New: name, Err: ErrUnsupported}
}
