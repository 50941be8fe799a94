//go:build !unix

package planfile

import (
	"os"
	"path/filepath"
	"testing"
)

// fifo is a directory made in dir where there are no named pipes: it is
// no regular file either, and stands in dir where the pipe would.
func fifo(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "fifo")
	if err := os.Mkdir(p, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}
