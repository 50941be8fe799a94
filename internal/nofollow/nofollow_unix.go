//go:build unix

package nofollow

import (
	"io/fs"
	"os"
	"syscall"
)

// OpenFile is os.OpenFile of name with flag and perm, except that a
// symbolic link at name's last component is never followed: the open
// fails with an *os.PathError wrapping syscall.ELOOP, as O_NOFOLLOW fails
// on Unix, whatever flag asks (a link with O_CREATE is not created
// through). On Windows a junction (mount point), or any other reparse
// point that names another file, is refused the same way.
//
// Components before the last are followed: the callers check them
// (internal/safepath) or open beneath a directory they hold.
func OpenFile(name string, flag int, perm fs.FileMode) (*os.File, error) {
	return os.OpenFile(name, flag|syscall.O_NOFOLLOW, perm)
}
