package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// harness is one invocation: where it works, the binaries it built, and
// where it reports. Stdout gets the Markdown tables; stderr gets progress.
type harness struct {
	work    string // the run's own directory, removed at the end
	pixform string // built binary
	fakeapi string // built binary
	runs    int
	// scenarios, when not nil, names the apply scenarios to run
	// ("memory" for the memory figure); pixformOnly skips the curl
	// baseline.
	scenarios   map[string]bool
	pixformOnly bool
	pixformBin  string // a pixform binary to measure instead of building one
	// tofu, when not empty, is an OpenTofu binary that plan measures
	// beside pixform on terraform_data resources of the same count.
	tofu string
	// figures are the medians the run recorded (record), and calibration
	// the machine's speed in it (calibrate).
	figures     map[string]figure
	calibration float64
	out         io.Writer
	log         io.Writer
}

const usage = `usage: go run ./bench [flags] plan|apply|draft|watch|store-apply|store-pull|all

Run from the module root. Flags:`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, usage)
		fs.PrintDefaults()
	}
	parent := fs.String("work", os.TempDir(), "directory to create the run's working directory in (default $TMPDIR; use a fast disk)")
	runs := fs.Int("runs", 3, "repetitions of every measurement")
	keep := fs.Bool("keep", false, "keep the working directory (for profiling or inspection)")
	timeout := fs.Duration("timeout", 30*time.Minute, "stop everything after this long")
	only := fs.String("scenarios", "", "apply: comma-separated scenarios to run (a,b,c,d,e,f,g,memory); empty runs all")
	pixformOnly := fs.Bool("pixform-only", false, "apply: skip the curl baseline")
	pixformBin := fs.String("pixform", "", "measure this pixform binary (e.g. an older build) instead of building the tree's")
	basePath := fs.String("baseline", filepath.Join("bench", "baseline.json"), "compare the figures with this stored baseline (\"\" to skip)")
	savePath := fs.String("save", "", "write this run's figures to this file, as a baseline for later runs")
	tofu := fs.String("tofu", "", "plan: also time this OpenTofu `binary` on the same count of terraform_data resources")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("name exactly one benchmark: plan, apply, draft, watch, store-apply, store-pull or all")
	}
	if *runs < 1 {
		return fmt.Errorf("-runs=%d: must be at least 1", *runs)
	}
	steps := map[string][]func(*harness, context.Context) error{
		"plan":  {(*harness).plan},
		"apply": {(*harness).apply},
		"draft": {(*harness).draft},
		"watch": {(*harness).watch},
		"all":   {(*harness).plan, (*harness).apply, (*harness).draft, (*harness).watch},

		// The image store on the apply path (not in all: it writes 6,000
		// images a run).
		"store-apply": {(*harness).storeApply},
		"store-pull":  {(*harness).storePull},
	}[fs.Arg(0)]
	if steps == nil {
		fs.Usage()
		return fmt.Errorf("unknown benchmark %q: use plan, apply, draft, watch, store-apply, store-pull or all", fs.Arg(0))
	}
	if _, err := os.Stat("go.mod"); err != nil {
		return errors.New("run the harness from the module root (the directory holding go.mod): go run ./bench " + fs.Arg(0))
	}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	work, err := os.MkdirTemp(*parent, "pixform-bench-")
	if err != nil {
		return fmt.Errorf("create the working directory in %q: %w (pass -work=DIR)", *parent, err)
	}
	if *keep {
		fmt.Fprintf(stderr, "bench: working directory %s (kept)\n", work)
	} else {
		defer os.RemoveAll(work)
	}
	h := &harness{work: work, runs: *runs, out: stdout, log: stderr, pixformOnly: *pixformOnly, pixformBin: *pixformBin, tofu: *tofu}
	if *only != "" {
		h.scenarios = map[string]bool{}
		for _, s := range strings.Split(*only, ",") {
			h.scenarios[strings.TrimSpace(s)] = true
		}
	}
	if err := h.build(ctx); err != nil {
		return err
	}
	h.machineNote()
	var base *baseline
	if *basePath != "" {
		if base, err = readBaseline(*basePath); err != nil {
			return err
		}
	}
	before, err := h.calibrate()
	if err != nil {
		return err
	}
	for _, step := range steps {
		if err := step(h, ctx); err != nil {
			return err
		}
	}
	after, err := h.calibrate()
	if err != nil {
		return err
	}
	h.calibration = (before + after) / 2
	if base != nil {
		compare(h.out, *basePath, base, h.calibration, h.figures)
	} else if *basePath != "" {
		fmt.Fprintf(h.log, "bench: no baseline at %s to compare with (write one with -save=%s)\n", *basePath, *basePath)
	}
	if *savePath != "" {
		return h.saveBaseline(*savePath)
	}
	return nil
}

// dir makes a new directory for one measurement inside the run's own.
// Directories are removed only when the whole run ends: on this VM's ext4
// (no journal) a file created soon after many were deleted costs far more,
// because the inode allocator skips recently deleted inodes one by one, so
// deleting one run's files would slow the next run's.
func (h *harness) dir(name string) (string, error) {
	d, err := os.MkdirTemp(h.work, name+"-")
	if err != nil {
		return "", fmt.Errorf("create a directory for %s: %w", name, err)
	}
	return d, nil
}

// machineNote prints what the figures were measured on.
func (h *harness) machineNote() {
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Fprintf(h.out, "Machine: %d CPUs (GOMAXPROCS), load average %s; work dir %s; %d runs each.\n\n",
		numCPU(), trimLoad(load), filepath.Dir(h.work), h.runs)
}
