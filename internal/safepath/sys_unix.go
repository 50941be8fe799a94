//go:build !windows

package safepath

import (
	"io/fs"
	"syscall"
)

// sysOf is the inode and change time of fi, an lstat's, when it has them.
func sysOf(fi fs.FileInfo) StatSys {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return StatSys{Ino: st.Ino, CTime: ctimeOf(st)}
	}
	return StatSys{}
}
