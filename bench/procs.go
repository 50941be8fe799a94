package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// benchToken is the fake API's bearer token: a made-up value, never a real
// credential.
const benchToken = "bench-token-not-a-secret"

func numCPU() int { return runtime.GOMAXPROCS(0) }

func trimLoad(b []byte) string {
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// build compiles pixform and fakeapi into the working directory.
func (h *harness) build(ctx context.Context) error {
	bin := filepath.Join(h.work, "bin")
	h.pixform = filepath.Join(bin, "pixform")
	h.fakeapi = filepath.Join(bin, "fakeapi")
	pkgs := map[string]string{h.pixform: ".", h.fakeapi: "./internal/fakeapi/cmd/fakeapi"}
	if h.pixformBin != "" {
		// Another build of pixform (an older one, to compare with),
		// against this tree's fake API.
		delete(pkgs, h.pixform)
		h.pixform = h.pixformBin
	}
	for out, pkg := range pkgs {
		fmt.Fprintf(h.log, "bench: building %s\n", pkg)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
		cmd.Stdout, cmd.Stderr = h.log, h.log
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("build %s: %w (does the module build? try go build %s)", pkg, err, pkg)
		}
	}
	return nil
}

// runResult is one finished process.
type runResult struct {
	Wall time.Duration
	Exit int
	// CPU is the process's user and system time: on a shared machine it
	// moves less than Wall with the other load.
	CPU time.Duration
}

// timed runs a command to completion with a time limit, stdout and stderr
// going to the files named (os.DevNull for nothing), and reports its wall
// time. The command is interrupted, then killed, when ctx ends or limit
// passes.
func timed(ctx context.Context, limit time.Duration, env []string, stdout, stderr string, name string, args ...string) (runResult, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = env
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for _, p := range []struct {
		path string
		dst  *io.Writer
	}{{stdout, &cmd.Stdout}, {stderr, &cmd.Stderr}} {
		f, err := os.Create(p.path)
		if err != nil {
			return runResult{}, fmt.Errorf("open %s for %s: %w", p.path, name, err)
		}
		files = append(files, f)
		*p.dst = f
	}
	start := time.Now()
	err := cmd.Run()
	res := runResult{Wall: time.Since(start), Exit: cmd.ProcessState.ExitCode()}
	if ps := cmd.ProcessState; ps != nil {
		res.CPU = ps.UserTime() + ps.SystemTime()
	}
	if ctx.Err() != nil {
		return res, fmt.Errorf("%s %s: stopped after %v: %w", filepath.Base(name), strings.Join(args, " "), limit, ctx.Err())
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return res, fmt.Errorf("run %s: %w", name, err)
	}
	return res, nil
}

// pixformEnv is the environment pixform runs with: this process's, minus
// anything that would change what it does, plus the fake API's URL and token.
func pixformEnv(apiURL string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "IMAGINE_") || strings.HasPrefix(k, "PIXFORM_") {
			continue
		}
		env = append(env, kv)
	}
	if apiURL != "" {
		env = append(env, "IMAGINE_API_URL="+apiURL, "IMAGINE_API_TOKEN="+benchToken)
	}
	return env
}

// fake is a running fakeapi process.
type fake struct {
	URL    string // the generations endpoint
	cmd    *exec.Cmd
	cancel context.CancelFunc
	done   chan error
}

// fakeStats is the part of GET /fakeapi/stats the harness reads.
type fakeStats struct {
	Requests        int
	Successes       int
	Throttled       int
	MaxInFlightSeen int
}

// startFake starts fakeapi on 127.0.0.1 with the given flags and waits for
// the URL it prints first. Stop it with stop.
func (h *harness) startFake(ctx context.Context, flags ...string) (*fake, error) {
	ctx, cancel := context.WithCancel(ctx)
	args := append([]string{"-addr", "127.0.0.1:0", "-token", benchToken}, flags...)
	cmd := exec.CommandContext(ctx, h.fakeapi, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Stderr = h.log
	out, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		return nil, fmt.Errorf("fakeapi stdout: %w", err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("start fakeapi: %w", err)
	}
	f := &fake{cmd: cmd, cancel: cancel, done: make(chan error, 1)}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		io.Copy(io.Discard, out)
		f.done <- cmd.Wait()
	}()
	select {
	case line, ok := <-lines:
		u, perr := url.Parse(strings.TrimSpace(line))
		if !ok || perr != nil || u.Hostname() != "127.0.0.1" {
			f.stop()
			return nil, fmt.Errorf("fakeapi printed %q, not a 127.0.0.1 URL", line)
		}
		f.URL = u.String()
	case <-time.After(10 * time.Second):
		f.stop()
		return nil, errors.New("fakeapi printed no URL within 10 s")
	}
	return f, nil
}

// stats fetches the fake's counters.
func (f *fake) stats(ctx context.Context) (fakeStats, error) {
	var st fakeStats
	u := strings.TrimSuffix(f.URL, "/v2/image/generations") + "/fakeapi/stats"
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return st, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return st, fmt.Errorf("fakeapi stats: %w", err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return st, fmt.Errorf("decode fakeapi stats: %w", err)
	}
	return st, nil
}

// stop interrupts the fake and waits for it to exit.
func (f *fake) stop() {
	f.cancel()
	select {
	case <-f.done:
	case <-time.After(10 * time.Second):
		f.cmd.Process.Kill()
	}
}
