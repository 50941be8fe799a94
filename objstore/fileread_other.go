//go:build !unix

package objstore

import (
	"os"
)

// fileReader reads a file:// store's object.
type fileReader struct {
	*os.File
	size int64
}

// openRead opens name for reading and learns its size; it must be a
// regular file.
func openRead(name string) (*fileReader, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = &os.PathError{Op: "open", Path: name, Err: errNotRegular}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return &fileReader{f, fi.Size()}, nil
}

// Read goes through the file's Read, not its WriteTo.
func (f *fileReader) Read(p []byte) (int, error) { return f.File.Read(p) }

func (f *fileReader) Size() int64 { return f.size }
