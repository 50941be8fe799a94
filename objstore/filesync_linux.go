package objstore

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// batchDurable says that there is syncfs(2): on a file system where
// batchable holds, one of it makes every file and name written there
// before the call durable, and a file:// store's uploads share it
// (groupSync) instead of two fsyncs each.
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

// createUnnamed makes an unnamed file in dir (O_TMPFILE), mode 0644 less
// the umask, so that the team sharing the store can read the object: it
// vanishes when closed unless linkUnnamed names it first, so a kill
// leaves nothing behind, and no one can open it before.
func createUnnamed(dir string) (*os.File, error) {
	for {
		fd, err := unix.Open(dir, unix.O_RDWR|unix.O_TMPFILE|unix.O_CLOEXEC, 0o644)
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

// batchableFS says whether a flush of the file system of that statfs(2)
// magic makes every file and name written in it durable: local ones only.
// On NFS, CIFS and FUSE (sshfs) syncfs asks no server to flush (CIFS has
// no sync_fs, FUSE other than virtiofs sends no FUSE_FSYNC), where a
// file's fsync does; a file system not known here is taken as such.
func batchableFS(magic int64) bool {
	switch magic {
	case unix.EXT4_SUPER_MAGIC, // also ext2, ext3
		unix.XFS_SUPER_MAGIC,
		unix.BTRFS_SUPER_MAGIC,
		unix.F2FS_SUPER_MAGIC,
		unix.TMPFS_MAGIC:
		return true
	}
	return false
}

// batchable says whether the uploads to the store whose directory is d
// may share flushes (batchableFS of its file system).
func batchable(d *os.File) bool {
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(d.Fd()), &st); err != nil {
		return false
	}
	return batchableFS(int64(st.Type))
}
