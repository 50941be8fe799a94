package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/pixform/pixform/bench/workload"
)

// planCase is one plan measurement: a workload and the plan flags.
type planCase struct {
	mode    string // fresh, noop (warm stat cache) or noop-full
	shape   workload.Shape
	n       int
	applied bool
	extra   []string
	target  float64 // seconds; 0 when the issue sets none
}

// planLimit bounds one plan run.
const planLimit = 2 * time.Minute

// racySettle is how long to wait after writing files before a warm-up
// plan can cache their stats (state.Refresh's 2 s racy window).
const racySettle = 2100 * time.Millisecond

// plan measures fresh plans of 2,000 and 20,000 images, no-op
// plans of 1,000 and 10,000, in both configuration shapes, through the
// real binary.
func (h *harness) plan(ctx context.Context) error {
	var cases []planCase
	for _, shape := range workload.Shapes {
		cases = append(cases,
			planCase{mode: "fresh", shape: shape, n: 2000},
			planCase{mode: "fresh", shape: shape, n: 20000, target: 1},
			planCase{mode: "noop", shape: shape, n: 1000, applied: true},
			planCase{mode: "noop", shape: shape, n: 10000, applied: true, target: 0.5},
			planCase{mode: "noop-full", shape: shape, n: 10000, applied: true, extra: []string{"-refresh=full"}, target: 0.5},
		)
	}
	// Derived images: half of the images are upscales of the others.
	cases = append(cases,
		planCase{mode: "fresh", shape: workload.Chain, n: 2000},
		planCase{mode: "fresh", shape: workload.Chain, n: 20000, target: 1},
	)
	dirs := make([]string, len(cases))
	for i, c := range cases {
		fmt.Fprintf(h.log, "bench: plan: writing %s %s %d\n", c.mode, c.shape, c.n)
		d, err := h.dir(fmt.Sprintf("plan-%s-%s-%d", c.mode, c.shape, c.n))
		if err != nil {
			return err
		}
		if err := workload.WriteConfig(d, c.shape, c.n); err != nil {
			return err
		}
		if c.applied {
			if _, err := workload.WriteApplied(d); err != nil {
				return err
			}
		}
		dirs[i] = d
	}
	time.Sleep(racySettle)

	fmt.Fprintln(h.out, "### Plan (issue 3), real binary: `pixform -chdir=DIR plan -no-color -detailed-exitcode [-refresh=full] > /dev/null`")
	fmt.Fprintln(h.out)
	fmt.Fprintln(h.out, "| plan | shape | images | wall: median (min–max) | target |")
	fmt.Fprintln(h.out, "| --- | --- | ---: | --- | --- |")
	medians := map[string]float64{}
	for i, c := range cases {
		d := dirs[i]
		args := append([]string{"-chdir=" + d, "plan", "-no-color", "-detailed-exitcode"}, c.extra...)
		want := 2
		if c.applied {
			want = 0
		}
		// One warm-up run: fills the page cache and, for no-op plans, the
		// stat cache, as a user's previous plan would have.
		var walls []float64
		for r := -1; r < h.runs; r++ {
			res, err := timed(ctx, planLimit, pixformEnv(""), os.DevNull, filepath.Join(d, "plan.err"), h.pixform, args...)
			if err != nil {
				return err
			}
			if res.Exit != want {
				msg, _ := os.ReadFile(filepath.Join(d, "plan.err"))
				return fmt.Errorf("plan %s %s %d: exit %d, want %d:\n%s", c.mode, c.shape, c.n, res.Exit, want, msg)
			}
			if r >= 0 {
				walls = append(walls, seconds(res.Wall))
			}
		}
		s := spreadOf(walls)
		medians[fmt.Sprintf("%s/%s/%d", c.mode, c.shape, c.n)] = s.Median
		h.record(fmt.Sprintf("plan/%s/%s/%d", c.mode, c.shape, c.n), s.Median, "s")
		target := "—"
		if c.target > 0 {
			verdict := "met"
			if s.Median > c.target {
				verdict = "MISSED"
			}
			target = fmt.Sprintf("< %s: %s", secs(c.target), verdict)
		}
		fmt.Fprintf(h.out, "| %s | %s | %d | %s | %s |\n", c.mode, c.shape, c.n, s.format(secs), target)
	}
	fmt.Fprintln(h.out)
	fmt.Fprintln(h.out, "Linear cost (target: 20,000 at most 12× 2,000; no-op 10,000 vs 1,000 for reference):")
	fmt.Fprintln(h.out)
	for _, shape := range workload.Shapes {
		r := medians[fmt.Sprintf("fresh/%s/20000", shape)] / medians[fmt.Sprintf("fresh/%s/2000", shape)]
		verdict := "met"
		if r > 12 {
			verdict = "MISSED"
		}
		fmt.Fprintf(h.out, "- fresh %s: 20,000 / 2,000 = %s (%s)\n", shape, ratio(r), verdict)
		fmt.Fprintf(h.out, "- noop %s: 10,000 / 1,000 = %s\n", shape, ratio(medians[fmt.Sprintf("noop/%s/10000", shape)]/medians[fmt.Sprintf("noop/%s/1000", shape)]))
	}
	fmt.Fprintln(h.out)
	return nil
}
