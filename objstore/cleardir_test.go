package objstore

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestRemoveEmptyDirKeepsFiles: what clearDir removes at a name it saw
// as a directory is only ever an empty directory. Between its look and
// the removal another process may have put its own object or lock there,
// which must stay (os.Remove would unlink it, and two applies could then
// both hold the store's lock).
func TestRemoveEmptyDirKeepsFiles(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("another process's object"), 0o644); err != nil {
		t.Fatal(err)
	}
	full := filepath.Join(dir, "full")
	if err := os.MkdirAll(filepath.Join(full, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		want    error // nil, os.ErrExist, os.ErrNotExist; other: any error
		remains bool
	}{
		{"a file", file, os.ErrExist, true},
		{"nothing", filepath.Join(dir, "none"), os.ErrNotExist, false},
		{"an empty directory", empty, nil, false},
		{"a directory with entries", full, errors.New("any"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := removeEmptyDir(tt.path)
			switch {
			case tt.want == nil && err != nil,
				tt.want == os.ErrExist && err != os.ErrExist,
				tt.want == os.ErrNotExist && err != os.ErrNotExist,
				tt.want != nil && err == nil:
				t.Errorf("removeEmptyDir = %v, want %v", err, tt.want)
			}
			if _, err := os.Lstat(tt.path); (err == nil) != tt.remains {
				t.Errorf("after removeEmptyDir, Lstat = %v; want it there: %v", err, tt.remains)
			}
		})
	}
}
