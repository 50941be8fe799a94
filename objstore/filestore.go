package objstore

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"

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

// hasFile is Has for a file:// store: one stat, from the store's
// directory (statObject).
func (s *Store) hasFile(ctx context.Context, key string) (bool, error) {
	regular, err := s.statObject(key)
	switch {
	case err == nil:
		return regular, nil
	case errors.Is(err, os.ErrNotExist):
		return false, nil
	}
	return false, s.classify(ctx, key, err)
}

// openFile opens the object key of a file:// store for reading; a
// missing object, or anything but a regular file under its name (as
// hasFile has it), is an *Error of kind NotFound. A symbolic link under
// its name is not followed: its target is neither read nor sized.
func (s *Store) openFile(ctx context.Context, key string) (*regfile.File, error) {
	name := s.filePath(key)
	f, err := regfile.Open(name, true)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, &Error{Kind: NotFound, URL: s.url, Object: key, Err: errors.New("no such object")}
		}
		if errors.Is(err, regfile.ErrNotRegular) || errors.Is(err, syscall.ELOOP) {
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
// that each upload does not ask again, and keeps a descriptor of each to
// make and name files relative to (fd).
type madeDirs struct {
	m   sync.Map
	fds sync.Map // dir → its descriptor (int)

	mu   sync.Mutex
	open []int // every descriptor fd opened, closed by closeAll
}

// fd returns a descriptor of dir (made by ensure), opened on first use.
func (d *madeDirs) fd(dir string) (int, error) {
	if v, ok := d.fds.Load(dir); ok {
		return v.(int), nil
	}
	fd, err := openDirFD(dir)
	if err != nil {
		return -1, err
	}
	d.mu.Lock()
	d.open = append(d.open, fd)
	d.mu.Unlock()
	v, _ := d.fds.LoadOrStore(dir, fd)
	return v.(int), nil
}

// forget drops what is known of dir, removed since: it is made and
// opened again on next use. Its descriptor stays open until closeAll: a
// write in flight may be using it.
func (d *madeDirs) forget(dir string) {
	d.m.Delete(dir)
	d.fds.Delete(dir)
}

// closeAll closes every descriptor fd opened.
func (d *madeDirs) closeAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, fd := range d.open {
		closeFD(fd)
	}
	d.open = nil
}

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
