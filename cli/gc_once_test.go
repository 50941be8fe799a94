package cli

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/pixform/pixform/bench/workload"
)

// TestCollectsOnceLoaded: a plan of image blocks with a large lockfile
// collects once after loading; one of a for_each over a large lockfile,
// one without a large lockfile, and one of a large configuration (which
// collects as it goes) do not.
func TestCollectsOnceLoaded(t *testing.T) {
	for _, tc := range []struct {
		sz   dirSizes
		want bool
	}{
		{dirSizes{config: 1750 << 10, lock: 4470 << 10}, true},   // 10,000 blocks
		{dirSizes{config: 875 << 10, lock: 2235 << 10}, true},    // 5,000 blocks
		{dirSizes{config: 440 << 10, lock: 1115 << 10}, false},   // 2,500 blocks
		{dirSizes{config: 300 << 10, lock: 4470 << 10}, false},   // a for_each of 10,000
		{dirSizes{config: 3500 << 10}, false},                    // 20,000 blocks, no lockfile
		{dirSizes{config: 9 << 20, lock: 20 << 20}, false},       // collects as it goes (50)
		{dirSizes{config: 1<<20 - 1, lock: 8 << 20}, false},      // an eighth of the lockfile less a byte
		{dirSizes{config: 1 << 20, lock: collectOnceFrom}, true}, // a lockfile just large enough
		{dirSizes{config: 1 << 20, lock: collectOnceFrom - 1}, false},
	} {
		if got := tc.sz.collectsOnceLoaded(); got != tc.want {
			t.Errorf("%+v: %v, want %v", tc.sz, got, tc.want)
		}
	}
}

// TestPlanCollectsOnceLoaded: with the collector off, as main sets it for
// plan, a no-op plan of image blocks whose lockfile is over
// collectOnceFrom collects once; one of 2,500 blocks, under it, collects
// nothing (no memory limit is set here).
func TestPlanCollectsOnceLoaded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes thousands of files")
	}
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	// 1,600 blocks with prompts of a kilobyte: a lockfile over 2 MiB.
	long := func(dir string) error {
		var b strings.Builder
		for i := range 1600 {
			fmt.Fprintf(&b, "image \"img%d\" {\n  prompt = \"view %d, %s\"\n  seed   = %d\n  path   = \"assets/set%d/img%d.png\"\n}\n\n",
				i, i, strings.Repeat("a long prompt ", 75), i+1, i%10, i)
		}
		return os.WriteFile(filepath.Join(dir, "images.pix.hcl"), []byte(b.String()), 0o644)
	}
	// Only collections the plan asks for are counted: none for a limit.
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	dirs := map[bool]string{}
	for _, tc := range []struct {
		name    string
		write   func(dir string) error
		large   bool // of a size that collects once loaded
		environ []string
		want    uint32
	}{
		{"1,600 long blocks", long, true, nil, 1},
		{"1,600 long blocks, GOGC=off the user's", long, true, []string{"GOGC=off"}, 0},
		{"1,600 long blocks, GOMEMLIMIT the user's", long, true, []string{"GOMEMLIMIT=1GiB"}, 0},
		{"1,600 long blocks, GOGC set empty", long, true, []string{"GOGC="}, 1},
		{"2,500 blocks", func(dir string) error { return workload.WriteConfig(dir, workload.Blocks, 2500) }, false, nil, 0},
	} {
		// A no-op plan changes nothing: the cases of one workload share
		// its directory.
		dir, ok := dirs[tc.large]
		if !ok {
			dir = t.TempDir()
			if err := tc.write(dir); err != nil {
				t.Fatal(err)
			}
			if _, err := workload.WriteApplied(dir); err != nil {
				t.Fatal(err)
			}
			dirs[tc.large] = dir
		}
		if sz := sizesOf(dir); sz.collectsOnceLoaded() != tc.large {
			t.Fatalf("%s: sizes %+v, want a workload whose size collects once loaded: %v", tc.name, sz, tc.large)
		}
		args := []string{"-chdir=" + dir, "plan", "-no-color", "-detailed-exitcode"}
		var before, after runtime.MemStats
		debug.SetGCPercent(-1)
		runtime.ReadMemStats(&before)
		var stderr strings.Builder
		code := Main(context.Background(), args, Stdio{In: strings.NewReader(""), Out: io.Discard, Err: &stderr, Environ: tc.environ})
		runtime.ReadMemStats(&after)
		debug.SetGCPercent(100)
		if code != 0 {
			t.Fatalf("%s: exit %d, want 0 (no changes)\n%s", tc.name, code, stderr.String())
		}
		if got := after.NumGC - before.NumGC; got != tc.want {
			t.Errorf("%s: %d collections, want %d", tc.name, got, tc.want)
		}
	}
}
