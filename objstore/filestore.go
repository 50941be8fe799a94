package objstore

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/pixform/pixform/internal/regfile"
)

// The fast paths of a file:// store: an object is a file under the
// store's directory, named by its key, and Has, Get and the reads of
// records go to the file system directly rather than through fileblob,
// which stats each object and then tries to open its .attrs sidecar (the
// store writes none) before it opens the object itself.

// filePath is the file of key in a file:// store.
func (s *Store) filePath(key string) string {
	return filepath.Join(s.dir, filepath.FromSlash(key))
}

// hasFile is Has for a file:// store: one stat.
func (s *Store) hasFile(ctx context.Context, key string) (bool, error) {
	fi, err := os.Stat(s.filePath(key))
	switch {
	case err == nil:
		return fi.Mode().IsRegular(), nil
	case errors.Is(err, os.ErrNotExist):
		return false, nil
	}
	return false, s.classify(ctx, key, err)
}

// openFile opens the object key of a file:// store for reading; a
// missing object, or anything but a regular file under its name (as
// hasFile has it), is an *Error of kind NotFound.
func (s *Store) openFile(ctx context.Context, key string) (*regfile.File, error) {
	name := s.filePath(key)
	f, err := regfile.Open(name, false)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, &Error{Kind: NotFound, URL: s.url, Object: key, Err: errors.New("no such object")}
		}
		if errors.Is(err, regfile.ErrNotRegular) {
			return nil, &Error{Kind: NotFound, URL: s.url, Object: key, Err: errors.New("no such object: something other than a file stands under its name")}
		}
		return nil, s.classify(ctx, key, err)
	}
	return f, nil
}

// reader is an object's bytes and size, as Get and readSmall read them.
type reader interface {
	io.ReadCloser
	Size() int64
}

// newReader opens the object key: a file of a file:// store directly,
// else through the driver.
func (s *Store) newReader(ctx context.Context, key string) (reader, error) {
	if s.dir != "" {
		return s.openFile(ctx, key)
	}
	r, err := s.bucket.NewReader(ctx, key, nil)
	if err != nil {
		return nil, s.classify(ctx, key, err)
	}
	return r, nil
}

// madeDirs remembers the directories of a file:// store that exist, so
// that each upload does not ask again.
type madeDirs struct{ m sync.Map }

func (d *madeDirs) ensure(dir string) error {
	if _, ok := d.m.Load(dir); ok {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	d.m.Store(dir, true)
	return nil
}
