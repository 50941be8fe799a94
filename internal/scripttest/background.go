package scripttest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// background is a script command that runs one pixform per script in the
// background, its stdout and stderr in NAME.out and NAME.err. Scripts use
// testscript's own `exec pixform … &name&`, `kill -INT name` and `wait name`
// where those do the job; this command is for the three things they cannot
// do: its output is readable while it runs (waitfor apply.err … between two
// Ctrl-Cs), `wait CODE` checks the exact exit status (testscript's wait
// only tells success from failure, and an interrupted apply must exit 1),
// and `stop` bounds how long Ctrl-C may take to end it:
//
//	CMD start ARGS…     run `pixform ARGS…`; with -tty=FILE first, with
//	                    FILE as stdin, which pixform takes for a terminal
//	CMD signal INT|HUP|TERM|KILL send it a signal (INT is Ctrl-C)
//	CMD wait [CODE]     wait for it to exit; fail unless it exits 0 (or
//	                    CODE); ! CMD wait: any non-zero exit
//	CMD stop            Ctrl-C, then wait as `wait` does, failing if it
//	                    takes more than 10 s
//
// A process still running when its script ends is killed.
type background struct {
	name  string
	mu    sync.Mutex
	procs map[*testscript.TestScript]*bgProc
}

// bgProc is one background pixform and its exit, once known.
type bgProc struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func newBackground(name string) *background {
	return &background{name: name, procs: map[*testscript.TestScript]*bgProc{}}
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

func (b *background) cmd(ts *testscript.TestScript, neg bool, args []string) {
	usage := "usage: " + b.name + "bg start ARGS… | signal INT|HUP|TERM|KILL | wait [CODE] | stop"
	if len(args) == 0 {
		ts.Fatalf("%s", usage)
	}
	b.mu.Lock()
	p := b.procs[ts]
	b.mu.Unlock()
	switch args[0] {
	case "start":
		if neg || p != nil {
			ts.Fatalf("%sbg start: already running (or negated)", b.name)
		}
		b.start(ts, args[1:])
	case "signal":
		if p == nil || len(args) != 2 {
			ts.Fatalf("%s, after start", usage)
		}
		sig := map[string]os.Signal{"INT": os.Interrupt, "KILL": os.Kill, "HUP": syscall.SIGHUP, "TERM": syscall.SIGTERM}[args[1]]
		if sig == nil {
			ts.Fatalf("%sbg signal: unknown signal %q", b.name, args[1])
		}
		ts.Check(p.cmd.Process.Signal(sig))
	case "wait", "stop":
		if p == nil {
			ts.Fatalf("%sbg %s: nothing running", b.name, args[0])
		}
		limit := waitLimit
		if args[0] == "stop" {
			ts.Check(p.cmd.Process.Signal(os.Interrupt))
			limit = 10 * time.Second
		}
		want := 0
		if len(args) == 2 {
			var err error
			want, err = strconv.Atoi(args[1])
			ts.Check(err)
		}
		b.wait(ts, p, limit, neg, want)
	default:
		ts.Fatalf("%s", usage)
	}
}

func (b *background) start(ts *testscript.TestScript, args []string) {
	out, err := os.Create(ts.MkAbs(b.name + ".out"))
	ts.Check(err)
	errf, err := os.Create(ts.MkAbs(b.name + ".err"))
	ts.Check(err)
	bin := pixformPath(ts)
	var stdin *os.File
	if len(args) > 0 && strings.HasPrefix(args[0], "-tty=") {
		bin = filepath.Join(filepath.Dir(bin), "pixform-tty")
		stdin, err = os.Open(ts.MkAbs(strings.TrimPrefix(args[0], "-tty=")))
		ts.Check(err)
		defer stdin.Close()
		args = args[1:]
	}
	cmd := exec.Command(bin, args...)
	if stdin != nil {
		cmd.Stdin = stdin
	}
	cmd.Dir = ts.MkAbs(".")
	cmd.Env = childEnv(ts)
	cmd.Stdout, cmd.Stderr = out, errf
	ts.Check(cmd.Start())
	out.Close()
	errf.Close()
	p := &bgProc{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	b.mu.Lock()
	b.procs[ts] = p
	b.mu.Unlock()
	ts.Defer(func() {
		b.mu.Lock()
		q := b.procs[ts]
		delete(b.procs, ts)
		b.mu.Unlock()
		if q != nil {
			q.cmd.Process.Kill()
			<-q.done
		}
	})
}

// wait waits up to limit for p to exit and checks its exit code: want, or
// with neg any but 0.
func (b *background) wait(ts *testscript.TestScript, p *bgProc, limit time.Duration, neg bool, want int) {
	select {
	case <-p.done:
	case <-time.After(limit):
		p.cmd.Process.Kill()
		<-p.done
		ts.Fatalf("pixform %v did not exit within %s", p.cmd.Args[1:], limit)
	}
	b.mu.Lock()
	delete(b.procs, ts)
	b.mu.Unlock()
	code := 0
	var exit *exec.ExitError
	if errors.As(p.err, &exit) {
		code = exit.ExitCode()
	} else if p.err != nil {
		ts.Fatalf("%sbg: %v", b.name, p.err)
	}
	switch {
	case neg && code == 0:
		ts.Fatalf("pixform exited 0, want a failure")
	case !neg && code != want:
		ts.Fatalf("pixform exited %d, want %d", code, want)
	}
}
