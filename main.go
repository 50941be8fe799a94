// Command pixform is a declarative batch renderer for generated images:
// declare images in *.pix.hcl, plan against pixform.lock.json, apply only
// what changed.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"golang.org/x/term"

	"github.com/pixform/pixform/cli"
)

// errSecondInterrupt is why a second Ctrl-C (or SIGTERM) cancels what is
// in flight: it ends the messages that say what was abandoned, and is a
// context.Canceled to errors.Is.
var errSecondInterrupt error = secondInterrupt{}

type secondInterrupt struct{}

func (secondInterrupt) Error() string        { return "interrupted a second time" }
func (secondInterrupt) Is(target error) bool { return target == context.Canceled }

func main() {
	os.Exit(run(term.IsTerminal))
}

// run wires the process to cli.Main: the first interrupt closes stop (start
// nothing new, let in-flight work finish and be recorded), the second
// cancels the context (cancel in-flight work). isTerminal says whether a
// file descriptor is a terminal (term.IsTerminal; tests inject another).
func run(isTerminal func(fd int) bool) int {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	defer startProfiles()()
	// The process, not cli.Main, sets the garbage collection target the
	// command wants, unless the user set GOGC or GOMEMLIMIT (a container's
	// memory cap): theirs stands.
	if !cli.UserSetsGC(os.Getenv) {
		percent, setPercent, limit, setLimit := cli.GCFor(os.Args[1:])
		if setPercent {
			debug.SetGCPercent(percent)
		}
		if setLimit {
			limitAboveLive(limit)
		}
	}
	stop := make(chan struct{})
	sigs := make(chan os.Signal, 2)
	// SIGHUP too: a closed terminal or a lost SSH session during watch or
	// apply stops it as Ctrl-C does, not as a kill that leaves images
	// placed and not recorded. Not when it is ignored (nohup): that
	// pixform is meant to outlive the terminal; nor for the other
	// commands, which a first interrupt does not end (they do not watch
	// stop): the signal's default action ends them, as it always did.
	notify := []os.Signal{os.Interrupt, syscall.SIGTERM}
	if !signal.Ignored(syscall.SIGHUP) && cli.StopsGracefully(os.Args[1:]) {
		notify = append(notify, syscall.SIGHUP)
	}
	signal.Notify(sigs, notify...)
	defer signal.Stop(sigs)
	go func() {
		select {
		case <-sigs:
		case <-ctx.Done():
			return
		}
		fmt.Fprintln(os.Stderr, "\npixform: interrupt received: starting nothing new; images in flight will finish and be recorded. Press Ctrl-C again to cancel them.")
		close(stop)
		// Only Ctrl-C or SIGTERM again cancels what is in flight: a lost
		// terminal sends SIGHUP more than once (the shell passes it on,
		// then the kernel sends it to the foreground group), and the
		// images in flight are paid for.
		for {
			select {
			case s := <-sigs:
				if s == syscall.SIGHUP {
					continue
				}
			case <-ctx.Done():
				return
			}
			break
		}
		fmt.Fprintln(os.Stderr, "\npixform: second interrupt: cancelling images in flight; what finished is recorded.")
		cancel(errSecondInterrupt)
	}()
	return cli.Main(ctx, os.Args[1:], cli.Stdio{
		In:          os.Stdin,
		Out:         os.Stdout,
		Err:         os.Stderr,
		Environ:     os.Environ(),
		InTerminal:  isTerminal(int(os.Stdin.Fd())),
		OutTerminal: isTerminal(int(os.Stdout.Fd())),
		ErrTerminal: isTerminal(int(os.Stderr.Fd())),
		Stop:        stop,
	})
}
