package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
			planCase{mode: "fresh", shape: shape, n: 10000},
			planCase{mode: "fresh", shape: shape, n: 20000, target: 0.5},
			planCase{mode: "noop", shape: shape, n: 1000, applied: true},
			planCase{mode: "noop", shape: shape, n: 10000, applied: true, target: 0.2},
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
	fmt.Fprintln(h.out, "| plan | shape | images | wall: median (min–max) | CPU (user+sys): median | target |")
	fmt.Fprintln(h.out, "| --- | --- | ---: | --- | --- | --- |")
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
		var walls, cpus []float64
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
				cpus = append(cpus, seconds(res.CPU))
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
		fmt.Fprintf(h.out, "| %s | %s | %d | %s | %s | %s |\n", c.mode, c.shape, c.n, s.format(secs), secs(spreadOf(cpus).Median), target)
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
	if h.tofu != "" {
		return h.tofuPlan(ctx, medians)
	}
	return nil
}

// tofuCount is how many terraform_data resources the OpenTofu row plans.
const tofuCount = 10000

// tofuPlan times `tofu plan` of tofuCount terraform_data resources from
// one for_each over a map (no state: a fresh plan), beside pixform's fresh
// plan of the same count, which medians holds.
func (h *harness) tofuPlan(ctx context.Context, medians map[string]float64) error {
	d, err := h.dir("plan-tofu")
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("locals {\n  views = {\n")
	for i := range tofuCount {
		fmt.Fprintf(&b, "    v%d = \"view number %d\"\n", i, i)
	}
	b.WriteString("  }\n}\n\nresource \"terraform_data\" \"view\" {\n  for_each = local.views\n  input    = \"a futuristic city at night, neon lights, ${each.value}\"\n}\n")
	if err := os.WriteFile(filepath.Join(d, "main.tf"), []byte(b.String()), 0o644); err != nil {
		return err
	}
	env := append(os.Environ(), "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
	errPath := filepath.Join(d, "tofu.err")
	res, err := timed(ctx, planLimit, env, os.DevNull, errPath, h.tofu, "-chdir="+d, "init", "-input=false", "-no-color")
	if err != nil {
		return err
	}
	if res.Exit != 0 {
		msg, _ := os.ReadFile(errPath)
		return fmt.Errorf("tofu init: exit %d:\n%s", res.Exit, msg)
	}
	var walls, cpus []float64
	for r := -1; r < h.runs; r++ {
		res, err := timed(ctx, planLimit, env, os.DevNull, errPath, h.tofu, "-chdir="+d, "plan", "-input=false", "-no-color", "-lock=false", "-detailed-exitcode")
		if err != nil {
			return err
		}
		if res.Exit != 2 {
			msg, _ := os.ReadFile(errPath)
			return fmt.Errorf("tofu plan: exit %d, want 2:\n%s", res.Exit, msg)
		}
		if r >= 0 {
			walls = append(walls, seconds(res.Wall))
			cpus = append(cpus, seconds(res.CPU))
		}
	}
	s := spreadOf(walls)
	px := medians[fmt.Sprintf("fresh/%s/%d", workload.ForEach, tofuCount)]
	fmt.Fprintf(h.out, "### Fresh plan beside OpenTofu (%s), %d resources from one for_each: `tofu plan -input=false -no-color -lock=false -detailed-exitcode` after `tofu init`\n\n", h.tofu, tofuCount)
	fmt.Fprintln(h.out, "| tool | wall: median (min–max) | CPU (user+sys): median | tofu / pixform |")
	fmt.Fprintln(h.out, "| --- | --- | --- | --- |")
	fmt.Fprintf(h.out, "| OpenTofu, terraform_data | %s | %s | — |\n", s.format(secs), secs(spreadOf(cpus).Median))
	verdict := "target ≥ 50×: met"
	if px <= 0 || s.Median/px < 50 {
		verdict = "target ≥ 50×: MISSED"
	}
	fmt.Fprintf(h.out, "| pixform, for_each | %s | — | %s (%s) |\n\n", secs(px), ratio(s.Median/px), verdict)
	return nil
}
