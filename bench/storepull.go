package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/pixform/pixform/bench/workload"
	"github.com/pixform/pixform/internal/s3test"
)

// storePull measures `pixform pull` of n images from a local S3 server
// (VersityGW) into a fresh working copy against `rclone copy` of the same
// objects, with the same number of transfers, alternating the two in one
// run. Both download every object; pull also checks each against its
// sha256 and places it at its image's path atomically.
func (h *harness) storePull(ctx context.Context) error {
	const n = 2000
	bin, msg, _ := s3test.Find(false)
	if bin == "" {
		return errors.New(msg)
	}
	rclone, err := exec.LookPath("rclone")
	if err != nil {
		return errors.New("rclone is not on PATH: install Debian's rclone (apt-get install rclone) to compare pull with it")
	}
	tmp, err := h.dir("versitygw")
	if err != nil {
		return err
	}
	srv, err := s3test.StartServer(bin, tmp)
	if err != nil {
		return fmt.Errorf("start versitygw: %w", err)
	}
	defer srv.Stop()
	f, err := h.startFake(ctx)
	if err != nil {
		return err
	}
	defer f.stop()
	url := srv.URL("/bench")
	src, err := h.dir("store-pull-source")
	if err != nil {
		return err
	}
	if err := workload.WriteConfig(src, workload.ForEach, n); err != nil {
		return err
	}
	fmt.Fprintf(h.log, "bench: store-pull: rendering %d images into the store\n", n)
	env := append(pixformEnv(f.URL), srv.Env()...)
	env = append(env, "PIXFORM_STORE="+url)
	res, err := timed(ctx, applyLimit, env, filepath.Join(src, "apply.out"), filepath.Join(src, "apply.err"),
		h.pixform, "-chdir="+src, "apply", "-auto-approve", "-no-color", fmt.Sprintf("-parallelism=%d", parallelism))
	if err != nil {
		return err
	}
	if res.Exit != 0 {
		msg, _ := os.ReadFile(filepath.Join(src, "apply.err"))
		return fmt.Errorf("store-pull: apply exited %d:\n%s", res.Exit, lastLines(msg, 10))
	}
	// rclone's S3 client refuses AWS_CA_BUNDLE with its own transport; the
	// server is plain HTTP on loopback, so no CA applies.
	var rcloneEnv []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_CA_BUNDLE=") {
			rcloneEnv = append(rcloneEnv, kv)
		}
	}
	rcloneEnv = append(rcloneEnv,
		"RCLONE_CONFIG_BENCH_TYPE=s3", "RCLONE_CONFIG_BENCH_PROVIDER=Other",
		"RCLONE_CONFIG_BENCH_ENDPOINT="+srv.Endpoint, "RCLONE_CONFIG_BENCH_ACCESS_KEY_ID="+srv.Access,
		"RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY="+srv.Secret, "RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE=true",
		"RCLONE_CONFIG_BENCH_REGION=us-east-1")
	var pulls, copies []float64
	for r := range h.runs {
		fmt.Fprintf(h.log, "bench: store-pull: run %d/%d\n", r+1, h.runs)
		dir, err := h.dir("store-pull")
		if err != nil {
			return err
		}
		if err := copyFiles(src, dir, "main.pix.hcl", "pixform.lock.json"); err != nil {
			return err
		}
		res, err := timed(ctx, applyLimit, env, filepath.Join(dir, "pull.out"), filepath.Join(dir, "pull.err"),
			h.pixform, "-chdir="+dir, "pull", fmt.Sprintf("-parallelism=%d", parallelism))
		if err != nil {
			return err
		}
		if res.Exit != 0 {
			msg, _ := os.ReadFile(filepath.Join(dir, "pull.err"))
			return fmt.Errorf("store-pull: pull exited %d:\n%s", res.Exit, lastLines(msg, 10))
		}
		pulls = append(pulls, seconds(res.Wall))
		dest, err := h.dir("rclone")
		if err != nil {
			return err
		}
		res, err = timed(ctx, applyLimit, rcloneEnv, filepath.Join(dest, "..", filepath.Base(dest)+".out"), filepath.Join(dest, "..", filepath.Base(dest)+".err"),
			rclone, "copy", "bench:"+s3test.Bucket+"/bench/sha256", dest,
			fmt.Sprintf("--transfers=%d", parallelism), fmt.Sprintf("--checkers=%d", parallelism))
		if err != nil {
			return err
		}
		if res.Exit != 0 {
			msg, _ := os.ReadFile(filepath.Join(dest, "..", filepath.Base(dest)+".err"))
			return fmt.Errorf("store-pull: rclone copy exited %d:\n%s", res.Exit, lastLines(msg, 10))
		}
		got, err := countFiles(dest)
		if err != nil {
			return err
		}
		if got != n {
			return fmt.Errorf("store-pull: rclone copied %d files, want %d", got, n)
		}
		copies = append(copies, seconds(res.Wall))
	}
	fmt.Fprintf(h.out, "### Pull from a local S3 server (VersityGW %s): %d images, %d transfers\n\n", s3test.Version, n, parallelism)
	fmt.Fprintf(h.out, "`pixform pull -parallelism=%d` in a working copy with the lockfile and no outputs, against `rclone copy bench:BUCKET/PREFIX/sha256 DIR --transfers=%d --checkers=%d` (Debian's rclone) of the same objects, alternated.\n\n", parallelism, parallelism, parallelism)
	fmt.Fprintln(h.out, "| tool | wall |")
	fmt.Fprintln(h.out, "| --- | --- |")
	fmt.Fprintf(h.out, "| pixform pull | %s |\n", spreadOf(pulls).format(secs))
	fmt.Fprintf(h.out, "| rclone copy | %s |\n\n", spreadOf(copies).format(secs))
	rs := make([]float64, len(pulls))
	for i := range pulls {
		rs[i] = copies[i] / pulls[i]
	}
	verdict := "met"
	if spreadOf(rs).Median < 1 {
		verdict = "MISSED"
	}
	h.record("store-pull/pixform", spreadOf(pulls).Median, "s")
	fmt.Fprintf(h.out, "rclone's time over pull's, run by run: %s (target ≥ 1×: %s)\n\n", spreadOf(rs).format(ratio), verdict)
	return nil
}

// countFiles counts the regular files under dir.
func countFiles(dir string) (int, error) {
	n := 0
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && !strings.HasPrefix(d.Name(), ".") {
			n++
		}
		return nil
	})
	return n, err
}
