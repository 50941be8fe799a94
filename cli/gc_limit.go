package cli

import (
	"os"
	"path/filepath"

	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/state"
)

// loadMemoryLimit is the soft memory limit (debug.SetMemoryLimit) of a
// validate or plan that collects no garbage (loadGCPercent -1): the heap
// grows without a collection until it nears the limit, and the runtime
// collects from there to keep under it. It is above what a plan of a
// configuration under 8 MB allocates in all up to about 30,000 image
// blocks, so that those never collect, and below the peak that a target
// of 400 gave the larger ones.
const loadMemoryLimit = 384 << 20

// MemoryLimitFor returns the soft memory limit (for debug.SetMemoryLimit)
// that the process should run args with, and false when it needs none: a
// validate or plan that GCPercentFor has collect no garbage gets one.
// With a large lockfile, the limit is about twice what the plan keeps
// (lockMemoryLimit), so that its peak follows what it keeps, not when
// collections happen to run (under load they run late and the heap
// overshoots); otherwise it is loadMemoryLimit.
func MemoryLimitFor(args []string) (limit int64, ok bool) {
	if percent, set := GCPercentFor(args); !set || percent >= 0 || !loadCommand(args) {
		return 0, false
	}
	if dir := chdirOf(args); largeLock(dir) {
		return lockMemoryLimit(dir), true
	}
	return loadMemoryLimit, true
}

// loadCommand reports whether args run validate or plan.
func loadCommand(args []string) bool {
	for _, a := range args {
		if len(a) > 0 && a[0] == '-' {
			continue
		}
		return a == "validate" || a == "plan"
	}
	return false
}

// lockMemoryLimit is the memory limit of a plan in dir, whose lockfile is
// large and configuration under 8 MB: what such a plan keeps is about
// 3.8 bytes for every byte of the lockfile and 13 for every byte of
// configuration (its syntax is kept, for diagnostics), measured on 10,000
// images of both shapes; the limit is about 1.8 times that, and 4 MiB
// for the runtime's own. At 10,000 images of a for_each that is 43 MiB,
// for a peak RSS about 20 MiB above it (the binary's own pages).
func lockMemoryLimit(dir string) int64 {
	var lock int64
	if info, err := os.Stat(filepath.Join(dir, state.LockFileName)); err == nil {
		lock = info.Size()
	}
	return lock*7 + config.Size(dir)*24 + 4<<20
}
