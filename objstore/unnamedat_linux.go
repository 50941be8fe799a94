package objstore

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"

	"github.com/pixform/pixform/internal/unnamed"
	"golang.org/x/sys/unix"
)

// stageUnnamedAt starts staging key (file p in directory dir) in an
// unnamed file made relative to dir's descriptor, which the Store opens
// once (madeDirs.fd): no walk of the store's path for each object, and
// no *os.File (whose making asks the kernel for the file's flags, and
// sets a finalizer). The file system is all that matters of where it is
// made: linkAt names it by path. ok
// false means that this way is not open here (no unnamed files, no
// /proc to fall back on): the caller stages the common way.
func (s *Store) stageUnnamedAt(key, p, dir string) (f *staged, ok bool, err error) {
	if s.noUnnamed.Load() {
		return nil, false, nil
	}
	dfd, err := s.made.fd(dir)
	if err != nil {
		return nil, false, nil // the common way says what is wrong
	}
	for {
		fd, err := unix.Openat(dfd, ".", unix.O_RDWR|unix.O_TMPFILE|unix.O_CLOEXEC, 0o644)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case err == nil:
			return &staged{key: key, path: p, fd: fd, unnamed: true}, true, nil
		case errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.EISDIR), errors.Is(err, unix.EINVAL):
			// As unnamed.Create has it: this file system makes none.
			s.noUnnamed.Store(true)
			return nil, false, nil
		}
		// The directory may have been removed since its descriptor was
		// opened (making a file in it fails then, with EPERM or
		// ENOENT): the common way, by path, tries it as it is now, and
		// a descriptor is opened anew next time. One still there (a
		// directory that takes no new file: permissions, a full disk)
		// keeps its descriptor, and the common way says what is wrong.
		if unnamed.Removed(dfd) {
			s.made.fds.Delete(dir)
		}
		return nil, false, nil
	}
}

// linkAt names f's unnamed file (made by stageUnnamedAt) at its
// object's path as it is now, as unnamed.Link names a file: linkat(2)
// with AT_EMPTY_PATH, which Linux 6.10 and later allow a process for a
// file it opened itself, else through the file's /proc/self/fd entry.
// The name goes by path, not by the descriptor the file was made
// through: a directory of the store moved away since (by hand, say)
// must not receive an object the caller then counts as stored.
func (s *Store) linkAt(f *staged) error {
	var err error
	if !s.noEmptyPath.Load() {
		err = retryEINTR(func() error {
			if s.emptyPathLink != nil {
				return s.emptyPathLink(f.fd, f.path)
			}
			return unix.Linkat(f.fd, "", unix.AT_FDCWD, f.path, unix.AT_EMPTY_PATH)
		})
		if err == nil || errors.Is(err, unix.EEXIST) {
			return linkErr(f, err)
		}
	}
	proc := "/proc/self/fd/" + strconv.Itoa(f.fd)
	perr := retryEINTR(func() error { return unix.Linkat(unix.AT_FDCWD, proc, unix.AT_FDCWD, f.path, unix.AT_SYMLINK_FOLLOW) })
	if perr == nil && err != nil {
		// This kernel, or these credentials, take no AT_EMPTY_PATH.
		s.noEmptyPath.Store(true)
	}
	return linkErr(f, perr)
}

// linkErr is a link's failure as os.Link words it.
func linkErr(f *staged, err error) error {
	if err == nil {
		return nil
	}
	return &os.LinkError{Op: "link", Old: filepath.Join(filepath.Dir(f.path), ".tmp-unnamed"), New: f.path, Err: err}
}

// retryEINTR calls op again while it is interrupted.
func retryEINTR(op func() error) error {
	for {
		if err := op(); !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// openDirFD opens dir as a descriptor to make and name files relative to.
func openDirFD(dir string) (int, error) {
	for {
		fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return -1, &os.PathError{Op: "open", Path: dir, Err: err}
		}
		return fd, nil
	}
}

// closeFD closes a descriptor of the file system.
func closeFD(fd int) { unix.Close(fd) }

// writeFD writes p to fd whole.
func writeFD(fd int, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := unix.Write(fd, p[n:])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return n, err
		}
		n += m
	}
	return n, nil
}

// syncFD is fsync(2) of fd.
func syncFD(fd int) error { return retryEINTR(func() error { return unix.Fsync(fd) }) }

// statObject stats the object key of a file:// store and reports
// whether a regular file stands there (a symbolic link is none: it is not
// followed). It goes by path, as every read and write of the store does:
// a store directory moved aside and made again while the store is open (a
// watch keeps it open for hours) is answered for as it is now, not as it
// was when opened.
func (s *Store) statObject(key string) (regular bool, err error) {
	p := s.filePath(key)
	var st unix.Stat_t
	if err := retryEINTR(func() error { return unix.Lstat(p, &st) }); err != nil {
		return false, &os.PathError{Op: "stat", Path: p, Err: err}
	}
	return st.Mode&unix.S_IFMT == unix.S_IFREG, nil
}
