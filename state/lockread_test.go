package state

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadLockFile: a lockfile is read only as a regular file at its
// name: a symbolic link (to a secret, to /dev/zero) or a FIFO a pull
// request put there is refused at once, saying what to do.
func TestReadLockFile(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "regular.json")
	if err := os.WriteFile(regular, []byte(`{"version": 1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(regular, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.json")
	if err := mkfifo(t, fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "dir.json")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string // want: "" read, else in the error
	}{
		{"regular", regular, ""},
		{"symbolic link", link, "is a symbolic link"},
		{"FIFO", fifo, "not a regular file"},
		{"directory", sub, "not a regular file"},
		{"missing", filepath.Join(dir, "none.json"), "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := ReadLockFile(tt.path)
			switch {
			case tt.want == "" && (err != nil || string(b) != `{"version": 1}`):
				t.Errorf("ReadLockFile = %q, %v", b, err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("ReadLockFile = %q, %v; want an error saying %q", b, err, tt.want)
			}
		})
	}
	if _, err := ReadLockFile(filepath.Join(dir, "none.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing lockfile: %v, want fs.ErrNotExist", err)
	}
}
