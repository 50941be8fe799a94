// Package umask reads the process's file mode creation mask.
package umask

import (
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// Get returns the process's umask as /proc/self/status gives it (asking
// umask(2) would change it for a moment for every goroutine), and false
// where that cannot be read (no /proc, another system).
func Get() (fs.FileMode, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "Umask:"); ok {
			m, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32)
			return fs.FileMode(m) & fs.ModePerm, err == nil
		}
	}
	return 0, false
}
