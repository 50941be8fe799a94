package state

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// batchSync says that one syncfs(2) before a lockfile write makes every
// output placed since durable, data and names, so PlaceTemp need not fsync
// each file: an apply of many images pays one flush per lockfile write
// instead of two per image.
const batchSync = true

// syncTree flushes the file system that holds dir.
func syncTree(dir string) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer unix.Close(fd)
	if err := unix.Syncfs(fd); err != nil {
		return fmt.Errorf("syncfs %s: %w", dir, err)
	}
	return nil
}

// openExcl creates the file name, which must not exist, for reading and
// writing. It is os.OpenFile without the poller registration that
// os.OpenFile tries on every file (two fcntl pairs and an epoll_ctl,
// which fails for a regular file): one system call per image, not six.
func openExcl(name string) (*os.File, error) {
	for {
		fd, err := unix.Open(name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o600)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: name, Err: err}
		}
		return os.NewFile(uintptr(fd), name), nil
	}
}

// rename is os.Rename without its lstat of newpath (which only tells a
// directory there apart, as rename(2) itself does here).
func rename(oldpath, newpath string) error {
	for {
		err := unix.Rename(oldpath, newpath)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
		}
		return nil
	}
}
