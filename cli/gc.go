package cli

import (
	"os"
	"path/filepath"
	"runtime/metrics"
	"strings"

	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/state"
)

// GCFor returns the garbage collection target (for debug.SetGCPercent)
// and soft memory limit (for debug.SetMemoryLimit) that the process should
// run args with, each with whether to set it, from one look at the working
// directory. Loading a configuration is allocation-bound and the heap it
// leaves is short-lived, so validate and plan of a small one do not
// collect (-1) below a memory limit; a large apply collects more often, to
// keep its peak memory down; watch keeps the default. Main itself changes
// no process-wide setting: the process sets this up before calling it.
func GCFor(args []string) (percent int, setPercent bool, limit int64, setLimit bool) {
	switch command(args) {
	case "validate", "plan":
		sz := sizesOf(chdirOf(args))
		percent = sz.loadGCPercent()
		if percent < 0 {
			return percent, true, sz.memoryLimit(), true
		}
		return percent, true, 0, false
	case "apply":
		percent, setPercent = sizesOf(chdirOf(args)).applyGCPercent()
		return percent, setPercent, 0, false
	}
	return 0, false, 0, false
}

// GCPercentFor is GCFor's garbage collection target, and whether to set it.
func GCPercentFor(args []string) (percent int, ok bool) {
	percent, ok, _, _ = GCFor(args)
	return percent, ok
}

// command returns the command args run: Main reads global options until
// the first argument that does not start with "-".
func command(args []string) string {
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			return a
		}
	}
	return ""
}

// chdirOf returns the working directory that args' global -chdir=DIR
// names, as Main reads it, "." without one.
func chdirOf(args []string) string {
	dir := "."
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			break
		}
		if d, ok := strings.CutPrefix(a, "-chdir="); ok {
			dir = d
		}
	}
	return dir
}

// dirSizes are what the garbage collection settings of a run in a
// directory follow: the bytes of its configuration files and of its
// lockfile, each looked up once.
type dirSizes struct {
	config, lock int64
}

func sizesOf(dir string) dirSizes {
	sz := dirSizes{config: config.Size(dir)}
	if info, err := os.Stat(filepath.Join(dir, state.LockFileName)); err == nil {
		sz.lock = info.Size()
	}
	return sz
}

// loadGCPercent is the garbage collection target of validate and plan.
// Loading is allocation-bound: a small configuration's heap is small
// and short-lived, so it does not collect at all (-1, off) until its heap
// reaches MemoryLimitFor's limit: below 8 MB of configuration a plan
// allocates less than that in all (20,000 image blocks: about 240 MB),
// and collecting while it runs cost a sixth of its CPU time, for little
// memory returned (at 400, the peak was about the same). A large one keeps
// about a kilobyte an image while it is planned, and its peak is that
// times 1 + percent/100: 50 holds 330,000 images to 1.8 KB an image of
// peak RSS (400 let it reach 12 KB, 100 2.5 KB), for about a fifth more
// CPU time than 100.
//
// A directory with a large lockfile holds many images whatever its
// configuration's size (a for_each over a long map is a few bytes an
// image): its plan keeps every entry, several hundred bytes each, so it
// collects no garbage either until it nears a limit made for what it
// keeps (MemoryLimitFor), which bounds its peak.
func (sz dirSizes) loadGCPercent() int {
	if config.LargeSize(sz.config) {
		return 50
	}
	return -1 // under memoryLimit
}

// applyGCPercent is the garbage collection target of apply. An
// apply of many images keeps each one's plan change, lockfile entry and
// encoding until it ends, a few kilobytes an image, and allocates a
// multiple of that while it runs; at 50 its peak is that times 1.5, not 2,
// for about a sixth more CPU time than 100, whose cost is small beside
// the requests'. A small apply keeps the default.
func (sz dirSizes) applyGCPercent() (int, bool) {
	if sz.lock >= largeLockfile || sz.config >= largeApplyConfig {
		return 50, true
	}
	return 0, false
}

// largeLockfile is the size from which a lockfile counts as large: about
// 2,000 images. largeApplyConfig is the size of configuration from which
// an apply counts as large: about 8,000 images of a for_each or 1,300
// image blocks.
const (
	largeLockfile    = 1 << 20
	largeApplyConfig = 256 << 10
)

// collectsOnceLoaded reports whether a plan that collects no garbage
// (loadGCPercent -1, under memoryLimit) collects once, after its
// configuration and lockfile have loaded (makePlan): a directory of image
// blocks with a large lockfile, whose load and lockfile read run at once
// (loadAllocatesLittle). By then about a third of what they allocated is
// garbage (the blocks' parsed headers, the path checks' and the scan's
// buffers: 13 of 32 MB at 10,000 blocks), and the plan allocates about
// 10 MB after (facts, the diff): with no collection, all of it adds to
// the peak. makePlan collects there and hands the freed pages back to the
// system (debug.FreeOSMemory): what the plan allocates after takes pages
// as it needs them, and its peak is then about what it allocated by the
// end of its load. At 10,000 blocks, one collection of what is live
// (21 MB) took 5–8 ms: the median peak RSS of the no-op plan went from
// 64.6 to 54.3 MiB, for 5% more CPU time (0.315 → 0.330 s, 20 runs
// alternated; callgrind: 8% more instructions, the collection's
// marking); collecting without handing the pages back gave 59.1 MiB,
// as the freed pages that the rest of the plan did not take again stayed
// resident, and its array of changes (4 MB at once) took new ones. The
// collection costs a few milliseconds whatever the size: a lockfile of
// collectOnceFrom or more.
func (sz dirSizes) collectsOnceLoaded() bool {
	return sz.lock >= collectOnceFrom && !config.LargeSize(sz.config) && sz.loadAllocatesLittle()
}

// collectOnceFrom is the size of lockfile from which a plan of image
// blocks collects once loaded (collectsOnceLoaded): about 4,500 images.
// The collection took 8–11 ms of CPU time at 5,000 blocks, for a peak
// RSS 4.3 MiB lower (43.6 → 39.3 MiB), and 6–8 ms at 2,500, for 2 MiB
// (33.9 → 31.8): a tenth of that plan's CPU time, for little.
const collectOnceFrom = 2 << 20

// UserSetsGC reports whether the user set GOGC or GOMEMLIMIT (getenv
// reads the environment; set empty is unset, as for the runtime): the
// process then keeps theirs and applies none of GCFor's settings.
func UserSetsGC(getenv func(string) string) bool {
	return getenv("GOGC") != "" || getenv("GOMEMLIMIT") != ""
}

// collectsNoGarbage reports whether the process collects no garbage of
// its own (GOGC off) because main set it up so for validate and plan
// (GCFor): a collection makePlan asks for then replaces none the runtime
// would have made. A user who set GOGC or GOMEMLIMIT (userSet,
// UserSetsGC) chose when the process collects: theirs stands.
func collectsNoGarbage(userSet bool) bool {
	if userSet {
		return false
	}
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return s[0].Value.Kind() == metrics.KindUint64 && int64(s[0].Value.Uint64()) < 0
}
