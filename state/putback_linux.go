package state

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// errNoUnnamed says that the file system makes no unnamed files.
var errNoUnnamed = errors.New("the file system makes no unnamed files (O_TMPFILE)")

// openUnnamed makes an unnamed file in the directory of target
// (O_TMPFILE): it vanishes when closed unless linkFile names it first, so
// a kill leaves nothing behind.
func openUnnamed(target string) (*os.File, error) {
	dir := filepath.Dir(target)
	for {
		fd, err := unix.Open(dir, unix.O_RDWR|unix.O_TMPFILE|unix.O_CLOEXEC, 0o600)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case err == nil:
			return os.NewFile(uintptr(fd), unnamedName(target)), nil
		case errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.EISDIR), errors.Is(err, unix.EINVAL):
			return nil, errNoUnnamed
		}
		return nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
}

// linkFile gives the open file f the name name, which must not exist
// (an error that is os.ErrExist otherwise): linkat(2) of its
// /proc/self/fd entry, which names an unnamed file too.
func linkFile(f *os.File, name string) error {
	old := "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
	for {
		err := unix.Linkat(unix.AT_FDCWD, old, unix.AT_FDCWD, name, unix.AT_SYMLINK_FOLLOW)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return &os.LinkError{Op: "link", Old: f.Name(), New: name, Err: err}
		}
		return nil
	}
}
