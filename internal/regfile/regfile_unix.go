//go:build unix

package regfile

import (
	"io"
	"os"
	"syscall"
)

// File reads a regular file straight from its descriptor: no os.File
// (whose making asks for the descriptor's flags and tries the poller),
// and no read past the size the file had when opened, which would only
// find its end. A file that grew since is read up to that size; one that
// shrank ends early (a hash of the bytes tells).
type File struct {
	fd   int
	size int64
	left int64
	// blocking says that O_NONBLOCK was cleared after an EAGAIN.
	blocking bool
}

// Open opens name for reading and learns its size; it must be a regular
// file (ErrNotRegular otherwise), and with noFollow not a symbolic link
// (an error wrapping syscall.ELOOP). The open does not block
// (O_NONBLOCK), so that a FIFO at name does not wait for a writer
// forever; a regular file ignores the flag, which is therefore left set
// (two fcntl calls saved), and cleared only if a read answers EAGAIN.
func Open(name string, noFollow bool) (*File, error) {
	flags := syscall.O_RDONLY | syscall.O_NONBLOCK | syscall.O_CLOEXEC
	if noFollow {
		flags |= syscall.O_NOFOLLOW
	}
	var fd int
	var err error
	for {
		fd, err = syscall.Open(name, flags, 0)
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
		return nil, &os.PathError{Op: "open", Path: name, Err: ErrNotRegular}
	}
	return &File{fd: fd, size: st.Size, left: st.Size}, nil
}

// Read reads up to the size the file had when opened. A read that answers
// EAGAIN clears O_NONBLOCK once and waits; one that answers it again is
// an error, not a loop.
func (f *File) Read(p []byte) (int, error) {
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

// Size is the file's size when it was opened.
func (f *File) Size() int64 { return f.size }

func (f *File) Close() error { return syscall.Close(f.fd) }
