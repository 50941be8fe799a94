//go:build !unix

package planfile

import (
	"path/filepath"
	"testing"
)

// fifo is a directory where there are no named pipes: it is no regular
// file either.
func fifo(t *testing.T, dir string) string {
	t.Helper()
	return filepath.Join(dir, "..")
}
