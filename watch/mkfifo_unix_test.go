//go:build !windows

package watch

import (
	"syscall"
	"testing"
)

// mkfifo makes a FIFO at path.
func mkfifo(t *testing.T, path string, mode uint32) error {
	t.Helper()
	return syscall.Mkfifo(path, mode)
}
