//go:build unix

package planfile

import (
	"path/filepath"
	"syscall"
	"testing"
)

// fifo makes a named pipe in dir, whose read would block for ever.
func fifo(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "pipe.bin")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
