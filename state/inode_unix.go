//go:build !windows

package state

import (
	"io/fs"
	"os"
	"syscall"
)

// lstatID is os.Lstat: its Sys holds the device, inode and change time
// that idOf and inodeCTime read.
func lstatID(name string) (fs.FileInfo, error) { return os.Lstat(name) }

// idOf returns fi's device and inode; ok is false where the platform has
// none, and then no note can ever match.
func idOf(fi fs.FileInfo) (fileID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Ino == 0 {
		return fileID{}, false
	}
	return fileID{Dev: uint64(st.Dev), Ino: st.Ino}, true // Dev is not a uint64 everywhere
}

// inodeCTime returns fi's inode and change time; ok is false when its Sys
// has none.
func inodeCTime(fi fs.FileInfo) (ino uint64, ctime int64, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return st.Ino, ctimeOf(st), true
}
