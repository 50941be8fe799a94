package state

import (
	"os"
	"path/filepath"
	"testing"
)

// TestWriteFileAtomicKeepsMode: a rewrite keeps the permissions of the
// file it replaces (a 0600 lockfile stays private); a new file is 0644.
func TestWriteFileAtomicKeepsMode(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name string
		perm os.FileMode // 0: no file before
		want os.FileMode
	}{
		{"private", 0o600, 0o600},
		{"group", 0o640, 0o640},
		{"executable", 0o755, 0o755},
		{"new", 0, 0o644},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name+".json")
			if tt.perm != 0 {
				if err := os.WriteFile(p, []byte("old"), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(p, tt.perm); err != nil {
					t.Fatal(err)
				}
			}
			if err := WriteFileAtomic(p, []byte("new")); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != tt.want {
				t.Errorf("mode after WriteFileAtomic: %o, want %o", got, tt.want)
			}
		})
	}
}
