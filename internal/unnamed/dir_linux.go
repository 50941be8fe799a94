package unnamed

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Dir is a directory held open: the files it makes are named in it,
// whatever happens to its path in between (moved, removed, replaced by a
// symbolic link). It is safe for concurrent use, Close too: a call in
// progress keeps the directory's descriptor until it returns, and one
// that starts after Close fails.
type Dir struct {
	f    *os.File
	rc   syscall.RawConn // f's, which keeps it open while in use
	path string
}

// OpenDir opens the directory rel (slash-separated, relative, clean, "."
// for root itself) under root, following no symbolic link in rel (root
// itself is opened as given): ErrSymlink where a component is one, an
// error that is fs.ErrNotExist where one is missing.
func OpenDir(root, rel string) (*Dir, error) {
	rfd, err := openPath(unix.AT_FDCWD, root, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: root, Err: err}
	}
	if rel == "." || rel == "" {
		return newDir(rfd, root), nil
	}
	defer unix.Close(rfd)
	full := filepath.Join(root, filepath.FromSlash(rel))
	fd, err := openBeneath(rfd, rel)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: full, Err: err}
	}
	return newDir(fd, full), nil
}

func newDir(fd int, path string) *Dir {
	f := os.NewFile(uintptr(fd), path)
	rc, _ := f.SyscallConn() // fails only on a closed file
	return &Dir{f: f, rc: rc, path: path}
}

// with calls fn with d's descriptor, which stays open until fn returns.
func (d *Dir) with(fn func(fd int) error) error {
	var ferr error
	if err := d.rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

// OpenBeneath returns a descriptor (O_PATH) of the directory rel (slash,
// relative) under the directory open at dirfd, opened with no symbolic
// link followed in any component and nothing reached outside, for a
// package that keeps raw descriptors (safepath's look-ahead).
func OpenBeneath(dirfd int, rel string) (int, error) { return openBeneath(dirfd, rel) }

// openBeneath opens the directory rel under dirfd with no symbolic link
// followed: one openat2(2) where the kernel has it, else one openat(2)
// per component.
func openBeneath(dirfd int, rel string) (int, error) {
	how := unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	}
	for {
		fd, err := unix.Openat2(dirfd, rel, &how)
		switch {
		case errors.Is(err, unix.EINTR), errors.Is(err, unix.EAGAIN):
			continue
		case err == nil:
			return fd, nil
		case errors.Is(err, unix.ELOOP):
			return -1, ErrSymlink
		case !errors.Is(err, unix.ENOSYS) && !errors.Is(err, unix.EPERM):
			return -1, err
		}
		break
	}
	// No openat2 (before Linux 5.6, or refused by a sandbox).
	return walkBeneath(dirfd, rel)
}

// walkBeneath is openBeneath with one openat(2) per component.
func walkBeneath(dirfd int, rel string) (int, error) {
	fd := dirfd
	for c := range strings.SplitSeq(rel, "/") {
		if c == ".." { // as openat2's RESOLVE_BENEATH refuses it
			if fd != dirfd {
				unix.Close(fd)
			}
			return -1, unix.EXDEV
		}
		next, err := openPath(fd, c, unix.O_NOFOLLOW)
		if errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP) {
			var st unix.Stat_t
			if unix.Fstatat(fd, c, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
				err = ErrSymlink
			}
		}
		if fd != dirfd {
			unix.Close(fd)
		}
		if err != nil {
			return -1, err
		}
		fd = next
	}
	return fd, nil
}

// openPath opens the directory name (under dirfd) as a path only.
func openPath(dirfd int, name string, flags int) (int, error) {
	for {
		fd, err := unix.Openat(dirfd, name, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC|flags, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		return fd, err
	}
}

// Path is the path d was opened at.
func (d *Dir) Path() string { return d.path }

// Close releases d; files made in it stay open.
func (d *Dir) Close() error { return d.f.Close() }

// Create makes an unnamed file in d, as Create does: an error that is
// fs.ErrNotExist where d has been removed.
func (d *Dir) Create(perm uint32, name string) (*os.File, error) {
	var f *os.File
	err := d.with(func(dfd int) error {
		for {
			fd, err := unix.Openat(dfd, ".", unix.O_RDWR|unix.O_TMPFILE|unix.O_CLOEXEC, perm)
			switch {
			case errors.Is(err, unix.EINTR):
				continue
			case err == nil:
				f = os.NewFile(uintptr(fd), name)
				return nil
			case errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.EISDIR), errors.Is(err, unix.EINVAL):
				return ErrUnsupported
			case Removed(dfd):
				// What the kernel says varies (EPERM, ENOENT).
				return unix.ENOENT
			}
			return err
		}
	})
	if errors.Is(err, ErrUnsupported) {
		return nil, err
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: d.path, Err: err}
	}
	return f, nil
}

// CreateExcl makes a new named file base in d (O_EXCL: an error that is
// fs.ErrExist where the name is taken; a symbolic link there is not
// followed), open for reading and writing, with mode perm (which the
// umask may narrow). Its name is base joined to d's path, for messages
// and for finding its directory: it is made in d wherever d now is, and
// an error that is fs.ErrNotExist where d has been removed.
func (d *Dir) CreateExcl(base string, perm uint32) (*os.File, error) {
	var f *os.File
	err := d.with(func(dfd int) error {
		for {
			fd, err := unix.Openat(dfd, base, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, perm)
			switch {
			case errors.Is(err, unix.EINTR):
				continue
			case err == nil:
				f = os.NewFile(uintptr(fd), filepath.Join(d.path, base))
				return nil
			case errors.Is(err, unix.ENOENT), Removed(dfd):
				return unix.ENOENT
			}
			return err
		}
	})
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: filepath.Join(d.path, base), Err: err}
	}
	return f, nil
}

// Link gives the open file f the name base in d, which must not exist
// (an error that is os.ErrExist otherwise): linkat(2) of f's
// /proc/self/fd entry into d itself, so the name is made in d wherever
// d now is. ErrDirChanged where d has been removed.
func (d *Dir) Link(f *os.File, base string) error {
	old := "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
	err := d.with(func(dfd int) error {
		for {
			err := unix.Linkat(unix.AT_FDCWD, old, dfd, base, unix.AT_SYMLINK_FOLLOW)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if errors.Is(err, unix.ENOENT) && Removed(dfd) {
				err = ErrDirChanged
			}
			return err
		}
	})
	if err != nil {
		return &os.LinkError{Op: "link", Old: f.Name(), New: filepath.Join(d.path, base), Err: err}
	}
	return nil
}

// Holds reports whether d is the directory the open file f was made in
// (ErrDirChanged otherwise): the kernel keeps the same path for both, as
// Link with sameDir checks.
func (d *Dir) Holds(f *os.File) error {
	proc := "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
	return d.with(func(dfd int) error { return sameDirAs(dfd, proc) })
}

// Rename renames from to to, both names in d: to is replaced atomically.
func (d *Dir) Rename(from, to string) error { return d.RenameTo(from, d, to) }

// RenameTo renames from in d to name in to (one file system), replacing
// name atomically: each relative to its directory's descriptor, wherever
// that directory is now, so that no path is resolved again.
func (d *Dir) RenameTo(from string, to *Dir, name string) error {
	err := d.with(func(dfd int) error {
		return to.with(func(tfd int) error {
			for {
				err := unix.Renameat(dfd, from, tfd, name)
				if errors.Is(err, unix.EINTR) {
					continue
				}
				if errors.Is(err, unix.ENOENT) && (Removed(dfd) || Removed(tfd)) {
					err = ErrDirChanged
				}
				return err
			}
		})
	})
	if err != nil {
		return &os.LinkError{Op: "rename", Old: filepath.Join(d.path, from), New: filepath.Join(to.path, name), Err: err}
	}
	return nil
}

// Remove removes the name name from d.
func (d *Dir) Remove(name string) error {
	err := d.with(func(dfd int) error {
		for {
			err := unix.Unlinkat(dfd, name, 0)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return err
		}
	})
	if err != nil {
		return &os.PathError{Op: "remove", Path: filepath.Join(d.path, name), Err: err}
	}
	return nil
}

// ReadDir lists d wherever it now is, as os.File.ReadDir(-1) does, in
// directory order: its entries' names and types (a symbolic link is one,
// never followed).
func (d *Dir) ReadDir() ([]fs.DirEntry, error) {
	var f *os.File
	err := d.with(func(dfd int) error {
		for {
			fd, err := unix.Openat(dfd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil {
				return err
			}
			f = os.NewFile(uintptr(fd), d.path)
			return nil
		}
	})
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: d.path, Err: err}
	}
	defer f.Close()
	return f.ReadDir(-1)
}

// Removed reports whether the directory open at dfd has been removed (no
// link left to it).
func Removed(dfd int) bool {
	var st unix.Stat_t
	return unix.Fstat(dfd, &st) == nil && st.Nlink == 0
}

// MkdirAll makes the directory rel (slash, relative) under root and the
// missing ones on its way, as os.MkdirAll does, but each made with
// mkdirat(2) in its parent opened with no symbolic link followed under
// root: a link put on the way (a directory replaced by a link to one
// outside) is never followed, and nothing is made through it (ErrSymlink).
// A component that exists and is not a directory is an error, as for
// os.MkdirAll.
func MkdirAll(root, rel string, perm os.FileMode) error {
	rfd, err := openPath(unix.AT_FDCWD, root, 0)
	if err != nil {
		return &os.PathError{Op: "mkdir", Path: root, Err: err}
	}
	defer unix.Close(rfd)
	parent := ""
	for c := range strings.SplitSeq(rel, "/") {
		if c == "" || c == "." {
			continue
		}
		if c == ".." { // nothing is made outside root
			return &os.PathError{Op: "mkdir", Path: filepath.Join(root, filepath.FromSlash(rel)), Err: unix.EXDEV}
		}
		fd := rfd
		if parent != "" {
			if fd, err = openBeneath(rfd, parent); err != nil {
				return &os.PathError{Op: "mkdir", Path: filepath.Join(root, filepath.FromSlash(parent)), Err: err}
			}
		}
		err := unix.Mkdirat(fd, c, uint32(perm.Perm()))
		for errors.Is(err, unix.EINTR) {
			err = unix.Mkdirat(fd, c, uint32(perm.Perm()))
		}
		if fd != rfd {
			unix.Close(fd)
		}
		parent = path.Join(parent, c)
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return &os.PathError{Op: "mkdir", Path: filepath.Join(root, filepath.FromSlash(parent)), Err: err}
		}
	}
	if parent == "" {
		return nil
	}
	// What is there now must be a directory reached with no link.
	fd, err := openBeneath(rfd, parent)
	if err != nil {
		return &os.PathError{Op: "mkdir", Path: filepath.Join(root, filepath.FromSlash(parent)), Err: err}
	}
	unix.Close(fd)
	return nil
}
