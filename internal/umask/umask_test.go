//go:build linux

package umask

import (
	"runtime"
	"syscall"
	"testing"
)

func TestGetIsTheProcessUmask(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("read from /proc/self/status, on Linux")
	}
	for _, want := range []int{0o022, 0o077, 0o002} {
		old := syscall.Umask(want) // the test alone runs here
		got, ok := Get()
		syscall.Umask(old)
		if !ok || int(got) != want {
			t.Errorf("umask %#o: Get() = %#o, %v", want, got, ok)
		}
	}
}
