//go:build unix

package objstore

import (
	"io"
	"os"
	"syscall"
)

// fileReader reads a file:// store's object straight from its file
// descriptor: no os.File (whose making asks for the descriptor's flags),
// and no read past the size the file had when opened, which would only
// find its end. A file that grew since is read up to that size (its name
// is the hash of those bytes); one that shrank ends early, and its hash
// tells.
type fileReader struct {
	fd   int
	size int64
	left int64
	// blocking says that O_NONBLOCK was cleared after an EAGAIN.
	blocking bool
}

// openRead opens name for reading and learns its size; it must be a
// regular file. The open does not block (O_NONBLOCK), so that a FIFO at
// name does not wait for a writer forever; a regular file ignores the
// flag, which is therefore left set (two fcntl calls an object saved),
// and cleared only if a read ever answers EAGAIN.
func openRead(name string) (*fileReader, error) {
	var fd int
	var err error
	for {
		fd, err = syscall.Open(name, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		syscall.Close(fd)
		return nil, &os.PathError{Op: "stat", Path: name, Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		syscall.Close(fd)
		return nil, &os.PathError{Op: "open", Path: name, Err: errNotRegular}
	}
	return &fileReader{fd: fd, size: st.Size, left: st.Size}, nil
}

func (f *fileReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		// Nothing asked for: no end reached (a read returning 0 would).
		return 0, nil
	}
	if f.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > f.left {
		p = p[:f.left]
	}
	for {
		n, err := syscall.Read(f.fd, p)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN && !f.blocking:
			// A file system that honours O_NONBLOCK on regular files.
			if err := syscall.SetNonblock(f.fd, false); err != nil {
				return 0, err
			}
			f.blocking = true
			continue
		case err != nil:
			return 0, err
		case n == 0:
			f.left = 0
			return 0, io.EOF
		}
		f.left -= int64(n)
		return n, nil
	}
}

func (f *fileReader) Size() int64 { return f.size }

func (f *fileReader) Close() error { return syscall.Close(f.fd) }
