package main

import (
	"errors"
	"os"
	"os/exec"
	"regexp"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// waitLimit bounds every wait of the watch commands. It is not a timing
// assertion: a wait normally ends in well under a second, and the limit
// only turns a hang into a failure with a message.
const waitLimit = 30 * time.Second

// watchCmds are the test script commands for `pixform watch`:
//
//	watchbg start ARGS…   run `pixform ARGS…` in the background, stdout to
//	                      watch.out and stderr to watch.err (readable while
//	                      it runs, unlike testscript's own `&`)
//	watchbg stop          send it an interrupt (Ctrl-C); fail unless it
//	                      exits 0 within a few seconds (! watchbg stop: a
//	                      non-zero exit)
//	waitfor FILE [REGEXP] wait until FILE exists (and its contents match);
//	                      ! waitfor: until it is gone (or stops matching)
func watchCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	w := &watchCmdState{procs: map[*testscript.TestScript]*exec.Cmd{}}
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"watchbg": w.watchbg,
		"waitfor": cmdWaitfor,
	}
}

// watchCmdState holds each running script's background watch.
type watchCmdState struct {
	mu    sync.Mutex
	procs map[*testscript.TestScript]*exec.Cmd
}

// childEnv is the environment of a background pixform: only what the
// script set, never the developer's own token.
func childEnv(ts *testscript.TestScript) []string {
	env := []string{"PATH=" + os.Getenv("PATH")}
	for _, k := range []string{"HOME", "TMPDIR", "WORK", "IMAGINE_API_URL", "IMAGINE_API_TOKEN", "PIXFORM_PROVIDER", "NO_COLOR", "GORACE", "GOCOVERDIR"} {
		if v := ts.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

func (w *watchCmdState) watchbg(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) == 0 {
		ts.Fatalf("usage: watchbg start ARGS… | watchbg stop")
	}
	w.mu.Lock()
	cmd := w.procs[ts]
	w.mu.Unlock()
	switch args[0] {
	case "start":
		if neg {
			ts.Fatalf("unsupported: ! watchbg start")
		}
		if cmd != nil {
			ts.Fatalf("watchbg: already running")
		}
		out, err := os.Create(ts.MkAbs("watch.out"))
		ts.Check(err)
		errf, err := os.Create(ts.MkAbs("watch.err"))
		ts.Check(err)
		cmd = exec.Command("pixform", args[1:]...)
		cmd.Dir = ts.MkAbs(".")
		cmd.Env = childEnv(ts)
		cmd.Stdout, cmd.Stderr = out, errf
		ts.Check(cmd.Start())
		out.Close()
		errf.Close()
		w.mu.Lock()
		w.procs[ts] = cmd
		w.mu.Unlock()
		ts.Defer(func() {
			w.mu.Lock()
			c := w.procs[ts]
			delete(w.procs, ts)
			w.mu.Unlock()
			if c != nil {
				c.Process.Kill()
				c.Wait()
			}
		})
	case "stop":
		if cmd == nil {
			ts.Fatalf("watchbg stop: nothing running")
		}
		ts.Check(cmd.Process.Signal(os.Interrupt))
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var err error
		select {
		case err = <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
			ts.Fatalf("pixform %v did not stop within 10s of Ctrl-C", cmd.Args[1:])
		}
		w.mu.Lock()
		delete(w.procs, ts)
		w.mu.Unlock()
		var exit *exec.ExitError
		switch {
		case err == nil && neg:
			ts.Fatalf("pixform exited 0, want a failure")
		case errors.As(err, &exit) && !neg:
			ts.Fatalf("pixform exited %d, want 0", exit.ExitCode())
		case err != nil && !errors.As(err, &exit):
			ts.Fatalf("pixform: %v", err)
		}
	default:
		ts.Fatalf("usage: watchbg start ARGS… | watchbg stop")
	}
}

func cmdWaitfor(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 && len(args) != 2 {
		ts.Fatalf("usage: waitfor FILE [REGEXP]")
	}
	var re *regexp.Regexp
	if len(args) == 2 {
		var err error
		re, err = regexp.Compile(args[1])
		ts.Check(err)
	}
	path := ts.MkAbs(args[0])
	deadline := time.Now().Add(waitLimit)
	for {
		b, err := os.ReadFile(path)
		ok := err == nil && (re == nil || re.Match(b))
		if ok != neg {
			return
		}
		if time.Now().After(deadline) {
			if neg {
				ts.Fatalf("waitfor: %s still exists (or matches) after %s", args[0], waitLimit)
			}
			ts.Logf("%s:\n%s", args[0], b)
			ts.Fatalf("waitfor: %s did not appear (or match %v) within %s", args[0], args[1:], waitLimit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
