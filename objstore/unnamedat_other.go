//go:build !linux

package objstore

import (
	"errors"
	"os"
)

// stageUnnamedAt is not open here: objects are staged the common way.
func (s *Store) stageUnnamedAt(key, p, dir string) (f *staged, ok bool, err error) {
	return nil, false, nil
}

func (s *Store) linkAt(f *staged) error { return errors.New("no unnamed files here") }

func openDirFD(dir string) (int, error) { return -1, errors.New("no directory descriptors here") }

func closeFD(int) {}

func writeFD(int, []byte) (int, error) { return 0, errors.New("no unnamed files here") }

func syncFD(int) error { return errors.New("no unnamed files here") }

// statObject stats the object key of a file:// store by its path, and
// reports whether a regular file stands there (a symbolic link is none:
// not followed).
func (s *Store) statObject(key string) (regular bool, err error) {
	fi, err := os.Lstat(s.filePath(key))
	return err == nil && fi.Mode().IsRegular(), err
}
