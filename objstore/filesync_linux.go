package objstore

import (
	"os"

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
