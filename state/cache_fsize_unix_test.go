//go:build unix

package state

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// A pack that reaches the file size limit (ulimit -f) is left for a new
// one: every render is kept, not refused from then on.
func TestCachePackFileSizeLimit(t *testing.T) {
	if os.Getenv("PIXFORM_TEST_FSIZE") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCachePackFileSizeLimit$", "-test.v")
		cmd.Env = append(os.Environ(), "PIXFORM_TEST_FSIZE="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS") {
			t.Fatalf("%v\n%s", err, out)
		}
		return
	}
	dir := os.Getenv("PIXFORM_TEST_FSIZE")
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: 64 << 10, Max: 64 << 10}); err != nil {
		t.Skip(err)
	}
	ds := digests(20)
	c := OpenCache(dir)
	for i, d := range ds {
		content := fmt.Sprintf("%d%s", i, strings.Repeat("x", 10<<10))
		keepT(t, c, dir, d, "imagine", ".png", content)
	}
	c.Close()
	r := OpenCache(dir)
	for i, d := range ds {
		wantServed(t, r, d, "imagine", fmt.Sprintf("%d%s", i, strings.Repeat("x", 10<<10)))
	}
}
