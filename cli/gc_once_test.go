package cli

import (
	"context"
	"io"
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
		{dirSizes{config: 1750 << 10, lock: 4470 << 10}, true}, // 10,000 blocks
		{dirSizes{config: 440 << 10, lock: 1150 << 10}, true},  // 2,500 blocks
		{dirSizes{config: 300 << 10, lock: 4470 << 10}, false}, // a for_each of 10,000
		{dirSizes{config: 3500 << 10}, false},                  // 20,000 blocks, no lockfile
		{dirSizes{config: 170 << 10, lock: 450 << 10}, false},  // 1,000 blocks
		{dirSizes{config: 9 << 20, lock: 20 << 20}, false},     // collects as it goes (50)
		{dirSizes{config: 1<<20 - 1, lock: 8 << 20}, false},    // an eighth of the lockfile less a byte
		{dirSizes{config: 1 << 20, lock: largeLockfile}, true}, // a large lockfile, just
		{dirSizes{config: 1 << 20, lock: largeLockfile - 1}, false},
	} {
		if got := tc.sz.collectsOnceLoaded(); got != tc.want {
			t.Errorf("%+v: %v, want %v", tc.sz, got, tc.want)
		}
	}
}

// TestPlanCollectsOnceLoaded: with the collector off, as main sets it for
// plan, a no-op plan of 2,500 image blocks collects once; the same plan
// of a for_each collects nothing (no memory limit is set here).
func TestPlanCollectsOnceLoaded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 5,000 files")
	}
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	for _, tc := range []struct {
		shape workload.Shape
		want  uint32
	}{
		{workload.Blocks, 1},
		{workload.ForEach, 0},
	} {
		dir := t.TempDir()
		if err := workload.WriteConfig(dir, tc.shape, 2500); err != nil {
			t.Fatal(err)
		}
		if _, err := workload.WriteApplied(dir); err != nil {
			t.Fatal(err)
		}
		if sz := sizesOf(dir); sz.collectsOnceLoaded() != (tc.want == 1) {
			t.Fatalf("%s: sizes %+v, want a workload that collects %d times", tc.shape, sz, tc.want)
		}
		args := []string{"-chdir=" + dir, "plan", "-no-color", "-detailed-exitcode"}
		var before, after runtime.MemStats
		debug.SetGCPercent(-1)
		runtime.ReadMemStats(&before)
		var stderr strings.Builder
		code := Main(context.Background(), args, Stdio{In: strings.NewReader(""), Out: io.Discard, Err: &stderr})
		runtime.ReadMemStats(&after)
		debug.SetGCPercent(100)
		if code != 0 {
			t.Fatalf("%s: exit %d, want 0 (no changes)\n%s", tc.shape, code, stderr.String())
		}
		if got := after.NumGC - before.NumGC; got != tc.want {
			t.Errorf("%s: %d collections, want %d", tc.shape, got, tc.want)
		}
	}
}
