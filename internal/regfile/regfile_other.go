//go:build !unix

package regfile

import "os"

// File reads a regular file.
type File struct {
	f    *os.File
	size int64
}

// Open opens name for reading and learns its size; it must be a regular
// file (ErrNotRegular otherwise). noFollow has no effect here.
func Open(name string, noFollow bool) (*File, error) {
	f, err := os.Open(name)
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
