package fsflush

import "golang.org/x/sys/unix"

// Covers reports whether a syncfs(2) of the file system holding the open
// file fd makes every file and name written in it before the call
// durable. Local file systems only: on NFS, CIFS and FUSE (sshfs) syncfs
// asks no server to flush (CIFS has no sync_fs, FUSE other than virtiofs
// sends no FUSE_FSYNC), where a file's fsync does; a file system not known
// here is taken as such, and so is one that cannot be asked.
func Covers(fd int) bool {
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		return false
	}
	return coversMagic(int64(st.Type))
}

// CoversPath is Covers of the file system holding path.
func CoversPath(path string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return false
	}
	return coversMagic(int64(st.Type))
}

// coversMagic is Covers of a file system by its statfs(2) magic.
func coversMagic(magic int64) bool {
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
