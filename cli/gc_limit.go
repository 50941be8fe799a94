package cli

// loadMemoryLimit is the soft memory limit (debug.SetMemoryLimit) of a
// validate or plan that collects no garbage (loadGCPercent -1): the heap
// grows without a collection until it nears the limit, and the runtime
// collects from there to keep under it. It is above what a plan of a
// configuration under 8 MB allocates in all up to about 30,000 image
// blocks, so that those never collect, and below the peak that a target
// of 400 gave the larger ones.
const loadMemoryLimit = 384 << 20

// MemoryLimitFor returns the soft memory limit (for debug.SetMemoryLimit)
// that the process should run args with, and false when it needs none:
// a command that GCPercentFor has collect no garbage gets one.
func MemoryLimitFor(args []string) (limit int64, ok bool) {
	if percent, set := GCPercentFor(args); set && percent < 0 {
		return loadMemoryLimit, true
	}
	return 0, false
}
