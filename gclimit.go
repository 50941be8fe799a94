package main

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// limitAboveLive sets the soft memory limit of a command that collects no
// garbage below it (cli.MemoryLimitFor) to limit, and after each
// collection raises it to twice the heap that collection found live, if
// that is more. Below limit nothing is collected; above it, the collector
// runs as at GOGC 100, instead of without pause when what the command
// keeps outgrows a limit estimated from the files' sizes (a small
// configuration whose count or for_each makes many images).
func limitAboveLive(limit int64) {
	debug.SetMemoryLimit(limit)
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var arm func()
	arm = func() {
		// A finalizer runs once a collection has found its object
		// unreachable: after each collection, here, as it re-arms.
		runtime.SetFinalizer(new([32]byte), func(*[32]byte) {
			metrics.Read(sample)
			if sample[0].Value.Kind() == metrics.KindUint64 {
				if live := int64(sample[0].Value.Uint64()); 2*live > debug.SetMemoryLimit(-1) {
					debug.SetMemoryLimit(2 * live)
				}
			}
			arm()
		})
	}
	arm()
}
