package safepath

import (
	"io/fs"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/pixform/pixform/internal/unnamed"
)

// openDir returns a descriptor of root's directory dir (p's, with its
// trailing slash; "" for root itself) that only names it (O_PATH: no
// permission to read it is needed, as for an lstat through it), or -1
// when p is not a plain relative path or the directory cannot be opened:
// lstatAt then takes the whole path, as os.Lstat does.
func openDir(root, p, dir string) int {
	if !fs.ValidPath(p) || p == "." {
		return -1
	}
	for {
		fd, err := unix.Open(filepath.Join(root, filepath.FromSlash(dir)), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1
		}
		return fd
	}
}

func closeDir(fd int) { unix.Close(fd) }

// openRoot returns a descriptor (O_PATH) of root itself, as given, or -1.
func openRoot(root string) int {
	for {
		fd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1
		}
		return fd
	}
}

// openBeneath returns a descriptor (O_PATH) of the directory dir (slash,
// relative, its trailing slash trimmed) under the directory open at
// rootfd, opened with no symbolic link followed in any component and
// nothing reached outside (one openat2(2) where the kernel has it, else
// one openat(2) per component), or -1 when it cannot be opened so: a
// link on the way, a missing directory, anything else.
func openBeneath(rootfd int, dir string) int {
	fd, err := unnamed.OpenBeneath(rootfd, dir)
	if err != nil {
		return -1
	}
	return fd
}

// reachableAt reports whether Leaves, through a descriptor of its
// directory, would make the lstat of p under root too: not a path that
// os.Lstat could not name (lstatAt takes it by its path).
func reachableAt(root, p string) bool { return len(root)+1+len(p) < unix.PathMax }

// lstatAt is os.Lstat of root/p, made as fstatat of name in dirfd, p's
// directory, when dirfd is not -1: the same answer, with the same error
// (an *fs.PathError of the whole path) and the same FileInfo fields as
// compact keeps of os.Lstat's. A path os.Lstat could not name (PATH_MAX
// or longer) goes by path too, so that it gets os.Lstat's "file name too
// long" whatever its neighbours, not an answer only a descriptor reaches.
func lstatAt(dirfd int, root, p, name string) lstatResult {
	if dirfd < 0 || len(root)+1+len(p) >= unix.PathMax {
		return lstatPath(root, p)
	}
	var st unix.Stat_t
	for {
		err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
		if err == nil {
			break
		}
		if err == unix.EINTR {
			continue
		}
		return lstatResult{err: &fs.PathError{Op: "lstat", Path: filepath.Join(root, filepath.FromSlash(p)), Err: err}}
	}
	return lstatResult{fi: &statInfo{
		name:  name,
		size:  st.Size,
		mode:  fileMode(st.Mode),
		mtime: st.Mtim.Nano(),
		sys:   StatSys{Ino: st.Ino, CTime: st.Ctim.Nano()},
	}}
}

// fileMode is the fs.FileMode that os gives a stat's mode.
func fileMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & unix.S_IFMT {
	case unix.S_IFBLK:
		mode |= fs.ModeDevice
	case unix.S_IFCHR:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFDIR:
		mode |= fs.ModeDir
	case unix.S_IFIFO:
		mode |= fs.ModeNamedPipe
	case unix.S_IFLNK:
		mode |= fs.ModeSymlink
	case unix.S_IFSOCK:
		mode |= fs.ModeSocket
	}
	if m&unix.S_ISGID != 0 {
		mode |= fs.ModeSetgid
	}
	if m&unix.S_ISUID != 0 {
		mode |= fs.ModeSetuid
	}
	if m&unix.S_ISVTX != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}
