package cli

// loadMemoryLimit is the soft memory limit (debug.SetMemoryLimit) of a
// validate or plan that collects no garbage (loadGCPercent -1): the heap
// grows without a collection until it nears the limit, and the runtime
// collects from there to keep under it. It is above what a plan of a
// configuration under 8 MB allocates in all up to about 30,000 image
// blocks, so that those never collect, and below the peak that a target
// of 400 gave the larger ones.
const loadMemoryLimit = 384 << 20

// MemoryLimitFor is GCFor's soft memory limit, and whether to set it: a
// validate or plan that collects no garbage gets one. With a large
// lockfile, the limit is about twice what the plan keeps (memoryLimit),
// so that its peak follows what it keeps, not when collections happen to
// run (under load they run late and the heap overshoots); otherwise it is
// loadMemoryLimit.
func MemoryLimitFor(args []string) (limit int64, ok bool) {
	_, _, limit, ok = GCFor(args)
	return limit, ok
}

// memoryLimit is the memory limit of a plan that collects no garbage.
// With a large lockfile (and a configuration under 8 MB) what the plan
// keeps is about 3.8 bytes for every byte of the lockfile and 13 for every
// byte of configuration (its syntax is kept, for diagnostics), measured on
// 10,000 images of both shapes; the limit is about 1.8 times that, and
// 4 MiB for the runtime's own. At 10,000 images of a for_each that is
// 43 MiB, for a peak RSS about 20 MiB above it (the binary's own pages).
//
// Image blocks of the simple form keep far less than 13 bytes a byte of
// configuration (they are kept as source), so that a plan of 10,000 of
// them never nears its limit. A lower limit did not lower its peak: its
// collection, concurrent, came while the configuration loaded, when
// little was garbage yet, and the pages it freed stayed resident (limits
// of 34 to 44 MiB: the same peak RSS). Such a plan collects once instead,
// where most is garbage (collectsOnceLoaded).
func (sz dirSizes) memoryLimit() int64 {
	if sz.lock < largeLockfile {
		return loadMemoryLimit
	}
	return sz.lock*7 + sz.config*24 + 4<<20
}

// loadAllocatesLittle reports whether the configuration is an eighth of
// the lockfile or more: image blocks (about 175 bytes each beside the
// lockfile's 460). Those of the simple form (prompt, path and the like as
// text and references, which config keeps as source) load with about
// nine bytes allocated for each of their own, well under memoryLimit's
// share, so that the load's heap and the parsed lockfile's fit under the
// limit together. A configuration much smaller than its lockfile repeats
// blocks (for_each, count), and its load allocates kilobytes an image:
// it collects, and the lockfile is better read once it is done.
func (sz dirSizes) loadAllocatesLittle() bool {
	return sz.config*8 >= sz.lock
}
