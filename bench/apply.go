package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pixform/pixform/bench/workload"
	"github.com/pixform/pixform/config"
)

// applyScenario is one fake-API behaviour both tools run against.
type applyScenario struct {
	name  string
	about string
	flags []string // fakeapi flags
	n     int
	ideal float64 // seconds a perfect client needs; 0 when unbounded
	// tail is the part of ideal after the last request starts: its
	// latency, which no client saves (0 when ideal counts whole requests,
	// as for a concurrency cap).
	tail float64
	// shape is the configuration's (default workload.ForEach);
	// pixformOnly skips the curl baseline, which cannot make derived
	// images.
	shape       workload.Shape
	pixformOnly bool
}

// applyLimit bounds one apply or curl run.
const applyLimit = 5 * time.Minute

// parallelism is the concurrency both tools get: -parallelism for
// pixform, xargs -P for curl.
const parallelism = 16

// curlScript is what xargs runs for each image: the loop a user would
// otherwise script. The token and URL come from the environment, so they
// are not on any command line.
const curlScript = `exec curl -sS --fail --retry 20 -o "$1" -H "Authorization: Bearer $BENCH_TOKEN" -F "prompt=$2" -F "style=$3" -F "aspect_ratio=$4" -F "seed=$5" "$BENCH_URL"`

// tool runs n images against a fake API and reports the process result.
type tool struct {
	name string
	run  func(ctx context.Context, h *harness, dir, apiURL string, n int) (runResult, error)
}

// apply measures issue 4: pixform against the curl baseline, in the same
// run, against a fresh fake API each time.
func (h *harness) apply(ctx context.Context) error {
	scenarios := []applyScenario{
		{name: "a", about: "token bucket 10/s, burst 2, 300 ms per image", flags: []string{"-rate", "10", "-burst", "2", "-latency", "300ms"}, n: 100, ideal: (100-2)/10.0 + 0.3, tail: 0.3},
		{name: "b", about: "4 in flight (429 beyond), 500 ms per image", flags: []string{"-max-inflight", "4", "-latency", "500ms"}, n: 100, ideal: 100 / 4 * 0.5},
		{name: "c", about: "answers at once, 2,000 images", n: 2000},
		// Rate limiters of the shapes reverse proxies use. The curl baseline
		// is left out: its fixed retries run out against them.
		{name: "d", about: "leaky bucket (GCRA) 10/s with no burst, 300 ms per image", flags: []string{"-shape", "gcra", "-rate", "10", "-latency", "300ms"}, n: 100, ideal: (100-1)/10.0 + 0.3, tail: 0.3, pixformOnly: true},
		{name: "e", about: "sliding window of 10 a second that counts refused requests, 300 ms per image (the ideal sends 10 at once each second; a client pacing at exactly 10/s starts its last request at 9.9 s)", flags: []string{"-shape", "window", "-rate", "10", "-latency", "300ms"}, n: 100, ideal: (100-10)/10.0 + 0.3, tail: 0.3, pixformOnly: true},
		{name: "f", about: "GCRA 10/s with a burst of 3, 300 ms per image", flags: []string{"-shape", "gcra", "-rate", "10", "-burst", "3", "-latency", "300ms"}, n: 100, ideal: (100-4)/10.0 + 0.3, tail: 0.3, pixformOnly: true},
		// Derived images: a chain of 500 sources and 500 upscales of them.
		{name: "g", about: "a chain: 500 images and an upscale of each (1,000 requests, each upscale started once its source is recorded), token bucket 50/s, burst 2, 100 ms per request", flags: []string{"-rate", "50", "-burst", "2", "-latency", "100ms"}, n: 1000, ideal: (1000-2)/50.0 + 0.1, tail: 0.1, shape: workload.Chain, pixformOnly: true},
	}
	for _, sc := range scenarios {
		if h.scenarios != nil && !h.scenarios[sc.name] {
			continue
		}
		tools := []tool{{"pixform", runPixform}, {"curl", runCurl}}
		if h.pixformOnly || sc.pixformOnly {
			tools = tools[:1]
		}
		type row struct{ wall, reqs, throttled, share []float64 }
		rows := make([]row, len(tools))
		for r := range h.runs {
			for ti, tl := range tools {
				fmt.Fprintf(h.log, "bench: apply %s: %s run %d/%d\n", sc.name, tl.name, r+1, h.runs)
				res, st, err := h.applyOnce(ctx, sc, tl)
				if err != nil {
					return err
				}
				rows[ti].wall = append(rows[ti].wall, seconds(res.Wall))
				rows[ti].reqs = append(rows[ti].reqs, float64(st.Requests))
				rows[ti].throttled = append(rows[ti].throttled, float64(st.Throttled))
				rows[ti].share = append(rows[ti].share, float64(st.Throttled)/float64(max(1, st.Requests)))
			}
		}
		fmt.Fprintf(h.out, "### Apply (issue 4) scenario (%s): %s; %d images, parallelism %d\n\n", sc.name, sc.about, sc.n, parallelism)
		if sc.ideal > 0 {
			fmt.Fprintf(h.out, "Ideal: %s", secs(sc.ideal))
			if sc.tail > 0 {
				// A perfect client's last request still takes its
				// latency: the ideal ends when that one does.
				fmt.Fprintf(h.out, " (the last request starts at %s and takes %s)", secs(sc.ideal-sc.tail), secs(sc.tail))
			}
			fmt.Fprintf(h.out, ". Target: pixform within 1.10× the ideal and ≤ 5%% of requests answered 429.\n\n")
		} else {
			fmt.Fprintln(h.out, "Target: pixform at least 5× faster than the curl baseline.")
			fmt.Fprintln(h.out)
		}
		fmt.Fprintln(h.out, "| tool | wall | ratio to ideal | requests | 429s | 429 share |")
		fmt.Fprintln(h.out, "| --- | --- | --- | --- | --- | --- |")
		for ti, tl := range tools {
			rw := rows[ti]
			h.record(fmt.Sprintf("apply/%s/%s", sc.name, tl.name), spreadOf(rw.wall).Median, "s")
			ratioCol := "—"
			if sc.ideal > 0 {
				rs := make([]float64, len(rw.wall))
				for i, w := range rw.wall {
					rs[i] = w / sc.ideal
				}
				ratioCol = spreadOf(rs).format(ratio)
			}
			fmt.Fprintf(h.out, "| %s | %s | %s | %s | %s | %s |\n", tl.name, spreadOf(rw.wall).format(secs), ratioCol,
				spreadOf(rw.reqs).format(count), spreadOf(rw.throttled).format(count), spreadOf(rw.share).format(percent))
		}
		if sc.ideal == 0 && len(tools) > 1 {
			sp := make([]float64, len(rows[0].wall))
			for i := range sp {
				sp[i] = rows[1].wall[i] / rows[0].wall[i]
			}
			verdict := "met"
			if spreadOf(sp).Median < 5 {
				verdict = "MISSED"
			}
			fmt.Fprintf(h.out, "\npixform speed-up over curl, run by run: %s (target ≥ 5×: %s)\n", spreadOf(sp).format(ratio), verdict)
		}
		fmt.Fprintln(h.out)
	}
	if h.scenarios != nil && !h.scenarios["memory"] {
		return nil
	}
	return h.applyMemory(ctx)
}

// applyOnce runs one tool once against a fresh fake API, so that its
// counters and token bucket start afresh.
func (h *harness) applyOnce(ctx context.Context, sc applyScenario, tl tool) (runResult, fakeStats, error) {
	dir, err := h.dir(fmt.Sprintf("apply-%s-%s", sc.name, tl.name))
	if err != nil {
		return runResult{}, fakeStats{}, err
	}
	shape := sc.shape
	if shape == "" {
		shape = workload.ForEach
	}
	if err := workload.WriteConfig(dir, shape, sc.n); err != nil {
		return runResult{}, fakeStats{}, err
	}
	f, err := h.startFake(ctx, sc.flags...)
	if err != nil {
		return runResult{}, fakeStats{}, err
	}
	defer f.stop()
	res, err := tl.run(ctx, h, dir, f.URL, sc.n)
	if err != nil {
		return res, fakeStats{}, fmt.Errorf("apply scenario %s, %s: %w", sc.name, tl.name, err)
	}
	st, err := f.stats(ctx)
	if err != nil {
		return res, st, err
	}
	if st.Successes < sc.n {
		return res, st, fmt.Errorf("apply scenario %s, %s: the fake API served %d images of %d", sc.name, tl.name, st.Successes, sc.n)
	}
	return res, st, nil
}

// runPixform applies the directory's configuration with pixform.
func runPixform(ctx context.Context, h *harness, dir, apiURL string, n int) (runResult, error) {
	res, err := timed(ctx, applyLimit, pixformEnv(apiURL), filepath.Join(dir, "apply.out"), filepath.Join(dir, "apply.err"),
		h.pixform, "-chdir="+dir, "apply", "-auto-approve", "-no-color", fmt.Sprintf("-parallelism=%d", parallelism))
	if err != nil {
		return res, err
	}
	if res.Exit != 0 {
		msg, _ := os.ReadFile(filepath.Join(dir, "apply.err"))
		return res, fmt.Errorf("pixform apply exited %d:\n%s", res.Exit, lastLines(msg, 10))
	}
	return res, nil
}

// runCurl renders the same images with xargs -P 16 curl --retry 20.
func runCurl(ctx context.Context, h *harness, dir, apiURL string, n int) (runResult, error) {
	cfg, diags := config.Load(dir, config.LoadOptions{})
	if diags.HasErrors() {
		return runResult{}, fmt.Errorf("load %s for the curl baseline: %s", dir, diags.Error())
	}
	out := filepath.Join(dir, "curl-out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return runResult{}, fmt.Errorf("create %s: %w", out, err)
	}
	var args bytes.Buffer
	for i, img := range cfg.Images {
		for _, a := range []string{
			filepath.Join(out, fmt.Sprintf("%05d.png", i)), img.Prompt, img.Style, img.AspectRatio, strconv.Itoa(i + 1),
		} {
			args.WriteString(a)
			args.WriteByte(0)
		}
	}
	argsFile := filepath.Join(dir, "curl.args")
	if err := os.WriteFile(argsFile, args.Bytes(), 0o644); err != nil {
		return runResult{}, fmt.Errorf("write %s: %w", argsFile, err)
	}
	env := append(pixformEnv(""), "BENCH_URL="+apiURL, "BENCH_TOKEN="+benchToken)
	res, err := timed(ctx, applyLimit, env, os.DevNull, filepath.Join(dir, "curl.err"),
		"xargs", "-0", "-P", strconv.Itoa(parallelism), "-n", "5", "-a", argsFile, "sh", "-c", curlScript, "_")
	if err != nil {
		return res, err
	}
	if res.Exit != 0 {
		msg, _ := os.ReadFile(filepath.Join(dir, "curl.err"))
		return res, fmt.Errorf("xargs curl exited %d:\n%s", res.Exit, lastLines(msg, 10))
	}
	files, err := os.ReadDir(out)
	if err != nil {
		return res, fmt.Errorf("read %s: %w", out, err)
	}
	if len(files) != n {
		return res, fmt.Errorf("curl wrote %d files, want %d", len(files), n)
	}
	return res, nil
}

// applyMemory measures pixform's peak memory applying 10,000 images
// against an instant fake API, with /usr/bin/time -v as a user would.
func (h *harness) applyMemory(ctx context.Context) error {
	const n = 10000
	const limitBytes = 100e6 // 100 MB
	timeBin := "/usr/bin/time"
	if _, err := os.Stat(timeBin); err != nil {
		return fmt.Errorf("%s is needed for the memory figure: apt-get install time", timeBin)
	}
	var rss, walls []float64
	for r := range h.runs {
		fmt.Fprintf(h.log, "bench: apply memory: %d images, run %d/%d\n", n, r+1, h.runs)
		dir, err := h.dir("apply-mem")
		if err != nil {
			return err
		}
		if err := workload.WriteConfig(dir, workload.ForEach, n); err != nil {
			return err
		}
		f, err := h.startFake(ctx)
		if err != nil {
			return err
		}
		timeOut := filepath.Join(dir, "time.txt")
		res, err := timed(ctx, applyLimit, pixformEnv(f.URL), filepath.Join(dir, "apply.out"), filepath.Join(dir, "apply.err"),
			timeBin, "-v", "-o", timeOut, h.pixform, "-chdir="+dir, "apply", "-auto-approve", "-no-color", fmt.Sprintf("-parallelism=%d", parallelism))
		f.stop()
		if err != nil {
			return err
		}
		if res.Exit != 0 {
			msg, _ := os.ReadFile(filepath.Join(dir, "apply.err"))
			return fmt.Errorf("pixform apply of %d images exited %d:\n%s", n, res.Exit, lastLines(msg, 10))
		}
		kb, err := maxRSS(timeOut)
		if err != nil {
			return err
		}
		rss = append(rss, float64(kb))
		walls = append(walls, seconds(res.Wall))
	}
	s := spreadOf(rss)
	h.record("apply/memory/rss", s.Median, "KiB")
	h.record("apply/memory/wall", spreadOf(walls).Median, "s")
	verdict := "met"
	if s.Max*1024 >= limitBytes {
		verdict = "MISSED"
	}
	fmt.Fprintf(h.out, "### Apply (issue 4) scenario (c) memory: %d images against an instant fake API, parallelism %d\n\n", n, parallelism)
	per := make([]float64, len(walls))
	for i, w := range walls {
		per[i] = w / n
	}
	fmt.Fprintln(h.out, "| images | wall | per image | Maximum resident set size | target |")
	fmt.Fprintln(h.out, "| ---: | --- | --- | --- | --- |")
	fmt.Fprintf(h.out, "| %d | %s | %s | %s | every run < 100 MB (95.4 MiB): %s |\n\n", n, spreadOf(walls).format(secs), spreadOf(per).format(secs), s.format(mib), verdict)
	return nil
}

// maxRSS reads "Maximum resident set size (kbytes)" from /usr/bin/time -v.
func maxRSS(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("read /usr/bin/time output: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "Maximum resident set size (kbytes):"); ok {
			return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, fmt.Errorf("no maximum resident set size in %s", path)
}

// lastLines returns the last n lines of b, for error messages.
func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
