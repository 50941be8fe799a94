package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/pixform/pixform/bench/workload"
)

// draft measures the offline renderer: `pixform apply -provider=draft`
// of 200 images in a fresh directory, whole process, default parallelism.
func (h *harness) draft(ctx context.Context) error {
	const n = 200
	const target = 100.0
	var rates, walls []float64
	for r := range h.runs {
		fmt.Fprintf(h.log, "bench: draft: run %d/%d\n", r+1, h.runs)
		dir, err := h.dir("draft")
		if err != nil {
			return err
		}
		if err := workload.WriteConfig(dir, workload.ForEach, n); err != nil {
			return err
		}
		res, err := timed(ctx, 5*time.Minute, pixformEnv(""), filepath.Join(dir, "apply.out"), filepath.Join(dir, "apply.err"),
			h.pixform, "-chdir="+dir, "apply", "-provider=draft", "-auto-approve", "-no-color")
		if err != nil {
			return err
		}
		if res.Exit != 0 {
			msg, _ := os.ReadFile(filepath.Join(dir, "apply.err"))
			return fmt.Errorf("draft apply exited %d:\n%s", res.Exit, lastLines(msg, 10))
		}
		walls = append(walls, seconds(res.Wall))
		rates = append(rates, n/seconds(res.Wall))
	}
	s := spreadOf(rates)
	h.record("draft/wall", spreadOf(walls).Median, "s")
	verdict := "met"
	if s.Median < target {
		verdict = "MISSED"
	}
	fmt.Fprintf(h.out, "### Draft renderer: `pixform -chdir=DIR apply -provider=draft -auto-approve -no-color`, %d images (16:9), fresh directory\n\n", n)
	fmt.Fprintln(h.out, "| images | wall | images/s | target |")
	fmt.Fprintln(h.out, "| ---: | --- | --- | --- |")
	fmt.Fprintf(h.out, "| %d | %s | %s | ≥ %.0f/s: %s |\n\n", n, spreadOf(walls).format(secs), s.format(perSec), target, verdict)
	return nil
}
