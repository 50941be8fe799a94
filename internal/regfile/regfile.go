// Package regfile reads a regular file that someone else may have put at
// a name: an object of a file:// store, an output to upload, a lockfile
// from a pull request. Open never blocks on a FIFO, refuses anything but
// a regular file, and, asked to, a symbolic link at the name.
package regfile

import (
	"bytes"
	"errors"
	"io"
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
	// Read into the buffer as made (as os.ReadFile does): growing a
	// bytes.Buffer to the size first clears every byte of it, which the
	// read then writes again.
	n := 512
	if size := f.Size(); size >= 0 && size < 1<<30 {
		n = int(size) + bytes.MinRead
	}
	buf := make([]byte, 0, n)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // the file grew
		}
		m, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: name, Err: err}
		}
	}
}
