package unnamed

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Create makes an unnamed file in dir with mode perm (which the umask
// may narrow), open for reading and writing; name is what it goes by in
// messages, since it has none on disk. It reports ErrUnsupported where
// the file system makes none.
func Create(dir string, perm uint32, name string) (*os.File, error) {
	for {
		fd, err := unix.Open(dir, unix.O_RDWR|unix.O_TMPFILE|unix.O_CLOEXEC, perm)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case err == nil:
			return os.NewFile(uintptr(fd), name), nil
		case errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.EISDIR), errors.Is(err, unix.EINVAL):
			return nil, ErrUnsupported
		}
		return nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
}

// Link gives the open file f the name name, which must not exist (an
// error that is os.ErrExist otherwise): linkat(2) of its /proc/self/fd
// entry, which names an unnamed file too.
//
// With sameDir, the link is made only in the directory f was made in, or
// in the one now really at that directory's path: the name's directory
// is opened, the path the kernel keeps for it must be the one it keeps
// for f's own entry, less its base, and the link is made relative to it
// (ErrDirChanged otherwise). A path checked when f was
// made can since have been changed, and linkat(2) would follow the
// change where a rename of a named file beside the target would fail.
// Without sameDir, it is a link by the path as it is now, as os.Link's.
func Link(f *os.File, name string, sameDir bool) error {
	old := "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
	fail := func(err error) error { return &os.LinkError{Op: "link", Old: f.Name(), New: name, Err: err} }
	dir, base := unix.AT_FDCWD, name
	if sameDir {
		fd, err := unix.Open(filepath.Dir(name), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fail(err)
		}
		defer unix.Close(fd)
		if err := sameDirAs(fd, old); err != nil {
			return fail(err)
		}
		dir, base = fd, filepath.Base(name)
	}
	for {
		err := unix.Linkat(unix.AT_FDCWD, old, dir, base, unix.AT_SYMLINK_FOLLOW)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fail(err)
		}
		return nil
	}
}

// sameDirAs checks that the directory open at dir is the one that holds
// the file open at proc (a /proc/self/fd entry): the kernel's path of
// each, with no symbolic link in it, must be the same. The file's is its
// entry's path, which for an unnamed or a removed file ends in
// " (deleted)", less its base. Once the file's directory has been removed
// its path stays what it was, and a directory since put there (a link
// followed to elsewhere has another path), or one that was moved, has
// another path or is the one really at that path now: dir is then used
// only if it is where the file's directory was, with no link on the way.
func sameDirAs(dir int, proc string) error {
	target, err := os.Readlink(proc)
	if err != nil {
		return err
	}
	target = strings.TrimSuffix(target, " (deleted)")
	if !filepath.IsAbs(target) {
		return ErrDirChanged // not a file in a directory (a pipe, say)
	}
	at, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(dir))
	if err != nil {
		return err
	}
	if at != filepath.Dir(target) {
		return ErrDirChanged
	}
	return nil
}
