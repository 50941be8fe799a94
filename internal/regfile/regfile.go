// Package regfile reads a regular file that someone else may have put at
// a name: an object of a file:// store, an output to upload, a lockfile
// from a pull request. Open never blocks on a FIFO, refuses anything but
// a regular file, and, asked to, a symbolic link at the name.
package regfile

import (
	"bytes"
	"errors"
	"os"
)

// ErrNotRegular is why Open refuses what stands at a name: a directory, a
// FIFO, a device. The error Open returns is an *os.PathError wrapping it.
var ErrNotRegular = errors.New("not a regular file")

// ReadFile reads the whole regular file at name, as Open opens it, into a
// buffer of its size (and room to see its end), not one that doubles from
// 512 bytes.
func ReadFile(name string, noFollow bool) ([]byte, error) {
	f, err := Open(name, noFollow)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	if f.Size() < 1<<30 {
		buf.Grow(int(f.Size()) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, &os.PathError{Op: "read", Path: name, Err: err}
	}
	return buf.Bytes(), nil
}
