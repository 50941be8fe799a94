package main

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// TestLimitAboveLive: a heap that outgrows the limit raises it to twice
// what is live once a collection has run, so that the collector does not
// run without pause.
func TestLimitAboveLive(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	defer debug.SetMemoryLimit(math.MaxInt64)
	const limit = 8 << 20
	limitAboveLive(limit)
	live := make([][]byte, 0, 64)
	for range 64 {
		live = append(live, make([]byte, 1<<20)) // 64 MiB kept
	}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		runtime.GC()
		if debug.SetMemoryLimit(-1) >= 2*64<<20 {
			runtime.KeepAlive(live)
			return
		}
	}
	t.Errorf("limit %d with 64 MiB live, want it raised to at least twice that", debug.SetMemoryLimit(-1))
	runtime.KeepAlive(live)
}
