package objstore

import (
	"os"
	"path/filepath"
	"sync"
)

// filePath is the file of key in a file:// store.
func (s *Store) filePath(key string) string {
	return filepath.Join(s.dir, filepath.FromSlash(key))
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
