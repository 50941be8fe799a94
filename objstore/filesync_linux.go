package objstore

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// batchDurable says that one syncfs(2) of the store's file system makes
// every file and name written in it before the call durable: a file://
// store's uploads share it (groupSync) instead of two fsyncs each.
const batchDurable = true

// syncFS flushes the file system holding the store's directory d, open
// since the store was opened: syncfs(2) reports a write-back error to
// each open description of the file system once, so a descriptor opened
// for each flush would miss the errors a flush before it (or another
// process) was told of.
func syncFS(d *os.File) error {
	if err := unix.Syncfs(int(d.Fd())); err != nil {
		return &os.PathError{Op: "syncfs", Path: d.Name(), Err: err}
	}
	return nil
}

// errNoUnnamed says that the file system makes no unnamed files.
var errNoUnnamed = errors.New("no unnamed files (O_TMPFILE) here")

// createUnnamed makes an unnamed file in dir (O_TMPFILE), mode 0600: it
// vanishes when closed unless linkUnnamed names it first, so a kill
// leaves nothing behind.
func createUnnamed(dir string) (*os.File, error) {
	for {
		fd, err := unix.Open(dir, unix.O_RDWR|unix.O_TMPFILE|unix.O_CLOEXEC, 0o600)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case err == nil:
			return os.NewFile(uintptr(fd), filepath.Join(dir, ".tmp-unnamed")), nil
		case errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.EISDIR), errors.Is(err, unix.EINVAL):
			return nil, errNoUnnamed
		}
		return nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
}

// linkUnnamed gives the unnamed file f the name name, which must not
// exist (an error that is os.ErrExist otherwise): linkat(2) of its
// /proc/self/fd entry.
func linkUnnamed(f *os.File, name string) error {
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
