//go:build !unix

package regfile

import (
	"os"

	"github.com/pixform/pixform/internal/nofollow"
)

// File reads a regular file.
type File struct {
	f    *os.File
	size int64
}

// Open opens name for reading and learns its size; it must be a regular
// file (ErrNotRegular otherwise), and with noFollow not a symbolic link
// (an error wrapping syscall.ELOOP; on Windows a junction too).
func Open(name string, noFollow bool) (*File, error) {
	open := os.Open
	if noFollow {
		open = func(name string) (*os.File, error) { return nofollow.OpenFile(name, os.O_RDONLY, 0) }
	}
	f, err := open(name)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = &os.PathError{Op: "open", Path: name, Err: ErrNotRegular}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return &File{f, fi.Size()}, nil
}

func (f *File) Read(p []byte) (int, error) { return f.f.Read(p) }

// Size is the file's size when it was opened.
func (f *File) Size() int64 { return f.size }

func (f *File) Close() error { return f.f.Close() }
