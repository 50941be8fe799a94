package cli

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/pixform/pixform/bench/workload"
	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/internal/fakeapi"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

// The plan benchmarks measure plans of thousands of images through the
// same pipeline as `pixform plan` (config.Load, state.ReadLock,
// state.Refresh, planner.Diff, the text view), driven through Main with
// io.Discard stdio. They write thousands of files: run them on a fast disk, e.g.
//
//	TMPDIR=/work/scratch/tmp go test -run '^$' -bench BenchmarkPlan -count 5 ./cli
//
// Compare sizes as ratios within one run; never assert on timings.

// racySettle is how long a no-op benchmark waits after writing its files
// before it warms the stat cache: state.Refresh does not trust the stat of
// a file modified within its 2 s racy window, so a warm cache needs files
// older than that.
const racySettle = 2100 * time.Millisecond

// planDir writes a workload into a fresh directory: its configuration and,
// when applied is true, its files and lockfile.
func planDir(b *testing.B, shape workload.Shape, n int, applied bool) string {
	b.Helper()
	dir := b.TempDir()
	if err := workload.WriteConfig(dir, shape, n); err != nil {
		b.Fatal(err)
	}
	if applied {
		if _, err := workload.WriteApplied(dir); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

// runPlan runs `pixform -chdir=dir plan -no-color [extra…]` in-process and
// fails the benchmark unless it exits with want.
func runPlan(b *testing.B, dir string, want int, extra ...string) {
	b.Helper()
	var stderr strings.Builder
	args := append([]string{"-chdir=" + dir, "plan", "-no-color"}, extra...)
	if percent, ok := GCPercentFor(args); ok {
		debug.SetGCPercent(percent) // as main does for the binary
	}
	limit, ok := MemoryLimitFor(args)
	if !ok {
		limit = math.MaxInt64 // none
	}
	debug.SetMemoryLimit(limit)
	code := Main(context.Background(), args, Stdio{In: strings.NewReader(""), Out: io.Discard, Err: &stderr})
	if code != want {
		b.Fatalf("pixform %s: exit %d, want %d\n%s", strings.Join(args, " "), code, want, stderr.String())
	}
}

// BenchmarkPlan measures whole plans. fresh: no lockfile, every image is
// a create (target: 20,000 in under 1 s, 20,000 at most 12× 2,000).
// noop: every image on disk and in the lockfile (target: 10,000 in under
// 0.5 s), with a warm stat cache (the steady state) and with
// -refresh=full (every file hashed).
func BenchmarkPlan(b *testing.B) {
	type mode struct {
		name    string
		applied bool
		sizes   []int
		extra   []string
	}
	modes := []mode{
		{name: "fresh", sizes: []int{2000, 20000}, extra: []string{"-detailed-exitcode"}},
		{name: "noop", applied: true, sizes: []int{1000, 10000}, extra: []string{"-detailed-exitcode"}},
		{name: "noop-full", applied: true, sizes: []int{10000}, extra: []string{"-detailed-exitcode", "-refresh=full"}},
	}
	for _, m := range modes {
		for _, shape := range workload.Shapes {
			for _, n := range m.sizes {
				b.Run(fmt.Sprintf("%s/%s/%d", m.name, shape, n), func(b *testing.B) {
					dir := planDir(b, shape, n, m.applied)
					want := ExitChanges
					if m.applied {
						want = ExitOK
						time.Sleep(racySettle)
						runPlan(b, dir, want) // warm the stat cache
					}
					b.ReportAllocs()
					b.ResetTimer()
					for b.Loop() {
						runPlan(b, dir, want, m.extra...)
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/image")
				})
			}
		}
	}
}

// BenchmarkPlanStages times each stage of a plan on its own, to show where
// a whole plan's time goes: the fresh plan of 20,000 and the warm no-op
// plan of 10,000 images.
func BenchmarkPlanStages(b *testing.B) {
	cases := []struct {
		name    string
		n       int
		applied bool
	}{
		{"fresh", 20000, false},
		{"noop", 10000, true},
	}
	for _, c := range cases {
		for _, shape := range workload.Shapes {
			b.Run(fmt.Sprintf("%s/%s/%d", c.name, shape, c.n), func(b *testing.B) {
				dir := planDir(b, shape, c.n, c.applied)
				if c.applied {
					time.Sleep(racySettle)
					runPlan(b, dir, ExitOK)
				}
				lockPath := filepath.Join(dir, state.LockFileName)
				cfg, diags := config.Load(dir, config.LoadOptions{})
				if diags.HasErrors() {
					b.Fatal(diags.Error())
				}
				lock, err := state.ReadLock(lockPath)
				if err != nil {
					b.Fatal(err)
				}
				e := &env{dir: dir}
				facts, err := e.facts(cfg, lock, false)
				if err != nil {
					b.Fatal(err)
				}
				rng := rand.New(rand.NewPCG(1, 2))
				in := planner.Input{
					Images: cfg.Images, Lock: lock, Facts: facts, Provider: providers.Imagine,
					NewSeed: func() int64 { return 1 + rng.Int64N(providers.MaxSeed) },
				}
				b.Run("load", func(b *testing.B) {
					for b.Loop() {
						if _, diags := config.Load(dir, config.LoadOptions{}); diags.HasErrors() {
							b.Fatal(diags.Error())
						}
					}
				})
				b.Run("readlock", func(b *testing.B) {
					for b.Loop() {
						if _, err := state.ReadLock(lockPath); err != nil {
							b.Fatal(err)
						}
					}
				})
				b.Run("facts", func(b *testing.B) {
					for b.Loop() {
						if _, err := e.facts(cfg, lock, false); err != nil {
							b.Fatal(err)
						}
					}
				})
				b.Run("diff", func(b *testing.B) {
					for b.Loop() {
						if _, diags := planner.Diff(in); diags.HasErrors() {
							b.Fatal(diags.Error())
						}
					}
				})
			})
		}
	}
}

// BenchmarkApply measures `pixform apply -auto-approve -parallelism=16`
// of n fresh images against the in-process fake API answering at once
// (the bench harness's apply scenario c), through Main. ns/image should stay flat as n
// grows; the per-image cost of the lockfile writes shows here.
func BenchmarkApply(b *testing.B) {
	for _, n := range []int{2000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			srv := fakeapi.New(fakeapi.Config{Credits: fakeapi.Unlimited})
			defer srv.Close()
			env := []string{"IMAGINE_API_URL=" + srv.URL(), "IMAGINE_API_TOKEN=bench-token"}
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				dir := b.TempDir()
				if err := workload.WriteConfig(dir, workload.ForEach, n); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				var stderr strings.Builder
				args := []string{"-chdir=" + dir, "apply", "-auto-approve", "-no-color", "-parallelism=16"}
				if code := Main(context.Background(), args, Stdio{In: strings.NewReader(""), Out: io.Discard, Err: &stderr, Environ: env}); code != ExitOK {
					b.Fatalf("pixform apply: exit %d\n%s", code, stderr.String())
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/image")
		})
	}
}
