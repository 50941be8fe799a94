package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pixform/pixform/bench/workload"
)

// storeApply measures the image store's cost on the apply path, side by
// side in one run, against the instant fake API: an apply of n images
// with a file:// store (every render uploaded before apply succeeds)
// against the same apply without one; and restoring those n images from
// the store in a fresh working copy (no request) against rendering them.
func (h *harness) storeApply(ctx context.Context) error {
	const n = 2000
	// wall and CPU (user+sys) of each apply, in seconds
	var plain, stored, restored, plainCPU, storedCPU, restoredCPU []float64
	for r := range h.runs {
		fmt.Fprintf(h.log, "bench: store-apply: run %d/%d\n", r+1, h.runs)
		f, err := h.startFake(ctx)
		if err != nil {
			return err
		}
		w, c, _, err := h.storeApplyRun(ctx, f.URL, n, "", "plain", "")
		if err != nil {
			f.stop()
			return err
		}
		plain, plainCPU = append(plain, w), append(plainCPU, c)
		storeDir, err := h.dir("store")
		if err != nil {
			f.stop()
			return err
		}
		url := "file://" + storeDir
		w, c, from, err := h.storeApplyRun(ctx, f.URL, n, url, "stored", "")
		if err != nil {
			f.stop()
			return err
		}
		stored, storedCPU = append(stored, w), append(storedCPU, c)
		w, c, _, err = h.storeApplyRun(ctx, f.URL, n, url, "restored", from)
		f.stop()
		if err != nil {
			return err
		}
		restored, restoredCPU = append(restored, w), append(restoredCPU, c)
	}
	fmt.Fprintf(h.out, "### Image store on the apply path: %d images, instant fake API, parallelism %d, file:// store on the same disk\n\n", n, parallelism)
	fmt.Fprintln(h.out, "| apply | wall | pixform's CPU (user+sys) |")
	fmt.Fprintln(h.out, "| --- | --- | --- |")
	fmt.Fprintf(h.out, "| render, no store | %s | %s |\n", spreadOf(plain).format(secs), spreadOf(plainCPU).format(secs))
	fmt.Fprintf(h.out, "| render, uploading every image to the store | %s | %s |\n", spreadOf(stored).format(secs), spreadOf(storedCPU).format(secs))
	fmt.Fprintf(h.out, "| restore every image from the store (a clone with the lockfile and no outputs, 0 requests) | %s | %s |\n\n", spreadOf(restored).format(secs), spreadOf(restoredCPU).format(secs))
	over := make([]float64, len(plain))
	speed := make([]float64, len(plain))
	speedCPU := make([]float64, len(plain))
	for i := range plain {
		over[i] = stored[i] / plain[i]
		speed[i] = plain[i] / restored[i]
		speedCPU[i] = plainCPU[i] / restoredCPU[i]
	}
	v1, v2 := "met", "met"
	if spreadOf(over).Median > 1.3 {
		v1 = "MISSED"
	}
	if spreadOf(speed).Median < 5 {
		v2 = "MISSED"
	}
	fmt.Fprintf(h.out, "With a store over without, run by run: %s (target ≤ 1.3×: %s). Restoring over rendering, speed-up: %s (target ≥ 5×: %s).\n\n",
		spreadOf(over).format(ratio), v1, spreadOf(speed).format(ratio), v2)
	fmt.Fprintf(h.out, "Restoring over rendering in pixform's CPU: %s.\n\n", spreadOf(speedCPU).format(ratio))
	return nil
}

// storeApplyRun applies n images in a fresh directory, with the store at
// url ("" for none), and returns the wall and CPU (user+sys) times in
// seconds and the directory. With clone, the directory is a clone of that one without
// outputs: its configuration and lockfile only.
func (h *harness) storeApplyRun(ctx context.Context, apiURL string, n int, url, name, clone string) (float64, float64, string, error) {
	dir, err := h.dir("store-apply-" + name)
	if err != nil {
		return 0, 0, "", err
	}
	if clone == "" {
		err = workload.WriteConfig(dir, workload.ForEach, n)
	} else {
		err = copyFiles(clone, dir, "main.pix.hcl", "pixform.lock.json")
	}
	if err != nil {
		return 0, 0, "", err
	}
	env := pixformEnv(apiURL)
	if url != "" {
		env = append(env, "PIXFORM_STORE="+url)
	}
	res, err := timed(ctx, applyLimit, env, filepath.Join(dir, "apply.out"), filepath.Join(dir, "apply.err"),
		h.pixform, "-chdir="+dir, "apply", "-auto-approve", "-no-color", fmt.Sprintf("-parallelism=%d", parallelism))
	if err != nil {
		return 0, 0, "", err
	}
	if res.Exit != 0 {
		msg, _ := os.ReadFile(filepath.Join(dir, "apply.err"))
		return 0, 0, "", fmt.Errorf("store-apply %s: pixform apply exited %d:\n%s", name, res.Exit, lastLines(msg, 10))
	}
	return seconds(res.Wall), seconds(res.CPU), dir, nil
}

// copyFiles copies the named files of from into to.
func copyFiles(from, to string, names ...string) error {
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join(from, name))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(to, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
