package state

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"syscall"
)

// ReadLockFile reads the lockfile at path, which a pull request may have
// replaced: it follows no symbolic link at its name, and reads nothing but
// a regular file (a FIFO would block, a device never end), as pixform
// itself only ever writes one there. A missing file is an error that
// wraps fs.ErrNotExist.
func ReadLockFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("%s is a symbolic link; pixform reads and writes its lockfile only as a regular file: replace the link with the file it names (or remove it to plan from nothing), then run the command again", path)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s); pixform reads and writes its lockfile only as a regular file: remove it (or put the lockfile back from version control), then run the command again", path, fi.Mode().Type())
	}
	// Read into a buffer of the file's size (and room to see its end).
	var buf bytes.Buffer
	if fi.Size() < 1<<30 {
		buf.Grow(int(fi.Size()) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
