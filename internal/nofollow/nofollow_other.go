//go:build !unix && !windows

package nofollow

import (
	"io/fs"
	"os"
	"syscall"
)

// OpenFile is os.OpenFile of name with flag and perm, except that a
// symbolic link at name's last component is refused with an
// *os.PathError wrapping syscall.ELOOP. Where there is no O_NOFOLLOW the
// name is lstat'ed before the open and the file opened is checked to be
// the one lstat'ed; O_CREATE with no file there yet is refused only if a
// link appears at once (a narrower guarantee).
func OpenFile(name string, flag int, perm fs.FileMode) (*os.File, error) {
	before, err := os.Lstat(name)
	if err == nil && before.Mode()&fs.ModeSymlink != 0 {
		return nil, &os.PathError{Op: "open", Path: name, Err: syscall.ELOOP}
	}
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	after, err := os.Lstat(name)
	if err != nil || after.Mode()&fs.ModeSymlink != 0 || (before != nil && !os.SameFile(before, after)) {
		f.Close()
		return nil, &os.PathError{Op: "open", Path: name, Err: syscall.ELOOP}
	}
	return f, nil
}
