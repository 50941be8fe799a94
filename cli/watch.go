package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/executor"
	"github.com/pixform/pixform/gallery"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
	"github.com/pixform/pixform/views"
	"github.com/pixform/pixform/watch"
)

// watchGrace is how long the first Ctrl-C lets the requests in flight
// finish (and be recorded) before watch cancels them.
const watchGrace = 2 * time.Second

// defaultServe is where -serve listens when given without an address, or
// with a port only: loopback, so the gallery is not shared by accident.
const defaultServe = "127.0.0.1:8080"

// serveFlag is -serve: a boolean flag that may carry an address.
type serveFlag struct {
	set  bool
	addr string
}

func (s *serveFlag) String() string   { return s.addr }
func (s *serveFlag) IsBoolFlag() bool { return true }
func (s *serveFlag) Set(v string) error {
	switch v {
	case "false":
		s.set, s.addr = false, ""
		return nil
	case "true", "":
		s.set, s.addr = true, defaultServe
		return nil
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		if strings.Trim(v, "0123456789") != "" {
			return fmt.Errorf("%q is not an address: use -serve, -serve=:PORT or -serve=HOST:PORT", v)
		}
		host, port = "", v // a bare port
	}
	if host == "" {
		host = "127.0.0.1"
	}
	s.set, s.addr = true, net.JoinHostPort(host, port)
	return nil
}

// watchSession is one `pixform watch`.
type watchSession struct {
	e           *env
	sel         selection
	parallelism int
	w           *watch.Watcher
	srv         *gallery.Server // nil without -serve
	out         io.Writer
	now         func() time.Time
}

func (e *env) watch(args []string) int {
	s := &watchSession{e: e, out: e.stdio.Out, now: time.Now}
	fs := newFlagSet("watch", "watch [options]")
	fs.Var(&s.sel.vars, "var", "set a variable: `NAME=VALUE` (repeatable)")
	fs.Var(&s.sel.varFiles, "var-file", "load variable values from `FILE` (repeatable; watched too)")
	fs.Var(&s.sel.targets, "target", "limit the plans to the image at `ADDR` (repeatable)")
	fs.StringVar(&s.sel.provider, "provider", "", "renderer `NAME`: imagine (default, or $PIXFORM_PROVIDER) or draft (offline placeholders)")
	fs.BoolVar(&s.sel.noColor, "no-color", false, "disable colour")
	fs.IntVar(&s.sel.maxCredit, "max-credits", -1, "skip a plan that would spend more than `N` credits")
	fs.IntVar(&s.parallelism, "parallelism", 0, "upper bound of `N` requests in flight (default: the provider block's parallelism, or 4)")
	var serve serveFlag
	fs.Var(&serve, "serve", "serve a live gallery: -serve (on "+defaultServe+"), -serve=:PORT or -serve=HOST:PORT")
	debounce := fs.Duration("debounce", watch.DefaultDebounce, "quiet time (a `DURATION`) after a save before planning")
	if err := fs.Parse(args); err != nil {
		return e.flagExit(fs, err)
	}
	s.sel.refresh = "fast"
	e.noColor = e.noColor || s.sel.noColor
	if fs.NArg() > 0 {
		return e.fail(fmt.Errorf("watch takes no arguments, got %q", fs.Args()))
	}
	if s.parallelism < 0 {
		return e.fail(fmt.Errorf("-parallelism=%d: must be at least 1", s.parallelism))
	}
	if _, err := e.providerName(s.sel.provider); err != nil {
		return e.fail(err)
	}
	release, err := e.acquire("pixform watch", 0)
	if err != nil {
		return e.fail(err)
	}
	defer release()

	s.w, err = watch.New(watch.Options{Dir: e.dir, VarFiles: s.sel.varFiles, Debounce: *debounce})
	if err != nil {
		return e.fail(err)
	}
	defer s.w.Close()

	if serve.set {
		ln, err := net.Listen("tcp", serve.addr)
		if err != nil {
			return e.fail(views.WithHint(fmt.Errorf("serve the gallery on %s: %w", serve.addr, err),
				"choose another port: -serve=:8081"))
		}
		s.srv = gallery.NewServer(e.dir, filepath.Base(e.dir))
		// The gallery answers the name it was asked to listen on and the
		// address it printed, besides the connection's own address.
		host, _, _ := net.SplitHostPort(serve.addr)
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		s.srv.AllowHost(net.JoinHostPort(host, port))
		s.srv.AllowHost(ln.Addr().String())
		var served sync.WaitGroup
		served.Go(func() {
			if err := s.srv.Serve(ln); err != nil {
				fmt.Fprintf(e.stdio.Err, "pixform: gallery server stopped: %v\n", err)
			}
		})
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			s.srv.Shutdown(ctx)
			served.Wait()
		}()
		fmt.Fprintf(s.out, "Gallery: http://%s/\n", ln.Addr())
	}
	fmt.Fprintf(s.out, "Watching %s for changes to *.pix.hcl and variable files. Press Ctrl-C to stop.\n", e.dir)
	s.loop()
	fmt.Fprintf(s.out, "[%s] stopped watching; %s is up to date with every image that finished.\n", s.stamp(), state.LockFileName)
	return ExitOK
}

func (s *watchSession) stamp() string { return s.now().Format("15:04:05") }

// stopping reports whether watch must end (Ctrl-C or a cancelled ctx).
func (s *watchSession) stopping() bool {
	select {
	case <-s.e.stdio.Stop:
		return true
	case <-s.e.ctx.Done():
		return true
	default:
		return false
	}
}

// loop plans and applies, then waits for the next change, until Ctrl-C.
func (s *watchSession) loop() {
	trigger, quiet := "start", false
	for {
		next, stopped := s.cycle(trigger, quiet)
		if stopped || s.stopping() {
			return
		}
		if next == nil {
			select {
			case ev, ok := <-s.w.Events():
				if !ok {
					return
				}
				next = &ev
			case <-s.e.stdio.Stop:
				return
			case <-s.e.ctx.Done():
				return
			}
		}
		if next.Err != nil {
			fmt.Fprintf(s.e.stdio.Err, "pixform: warning: %v\n", next.Err)
		}
		trigger = describe(*next)
		// Output removals that pixform's own moves and deletes cause end
		// in an empty plan: say nothing about those.
		quiet = len(next.Config) == 0 && next.Err == nil
	}
}

// describe names what triggered a run: "change detected (main.pix.hcl)".
func describe(ev watch.Event) string {
	files := ev.Files()
	switch {
	case len(ev.Config) > 0:
		return "change detected (" + list(files) + ")"
	case len(ev.Outputs) > 0:
		return "removed by hand (" + list(files) + ")"
	}
	return "change detected"
}

func list(files []string) string {
	if len(files) > 3 {
		return strings.Join(files[:3], ", ") + fmt.Sprintf(" and %d more", len(files)-3)
	}
	return strings.Join(files, ", ")
}

// summary is "1 to create, 2 to replace" for a plan.
func summary(p *planner.Plan) string {
	sm := p.Summary
	var parts []string
	for _, c := range []struct {
		n    int
		verb string
	}{{sm.Create, "create"}, {sm.Replace, "replace"}, {sm.Move, "move"}, {sm.Delete, "delete"}} {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%d to %s", c.n, c.verb))
		}
	}
	s := strings.Join(parts, ", ")
	if sm.Requests > 0 {
		s += fmt.Sprintf(" (%s", pluralize(sm.Requests, "request"))
		if p.Provider == providers.Imagine {
			s += fmt.Sprintf(", %s", pluralize(sm.Credits, "credit"))
		}
		s += ")"
	}
	return s
}

// cycle plans and, when there are changes, applies. It returns the change
// that arrived during the apply (to run again at once), and stopped when
// watch must end.
func (s *watchSession) cycle(trigger string, quiet bool) (next *watch.Event, stopped bool) {
	e := s.e
	start := s.now()
	p, ld, err := e.makePlan(&s.sel)
	if err != nil {
		if err != errConfig {
			views.WriteError(e.stdio.Err, err, e.color(false, e.stdio.ErrTerminal))
		}
		fmt.Fprintf(s.out, "[%s] %s: not applied; fix it and save to carry on.\n", s.stamp(), trigger)
		if s.srv != nil {
			s.srv.SetStatus("The last save could not be planned: "+firstLine(err)+". Fix it and save to carry on; the terminal shows the details.", true)
		}
		return nil, false
	}
	paths := make([]string, 0, len(p.Changes))
	for _, c := range p.Changes {
		if c.Action != planner.Delete {
			paths = append(paths, c.Path)
		}
	}
	if err := s.w.SetOutputs(paths); err != nil {
		fmt.Fprintf(e.stdio.Err, "pixform: warning: %v; a hand-deleted image may go unnoticed until the next save\n", err)
	}
	if s.srv != nil {
		s.srv.SetStatus("", false)
		s.srv.Set(gallery.FromPlan(p))
	}
	if !p.HasChanges() {
		if !quiet {
			fmt.Fprintf(s.out, "[%s] %s: no changes; %s up to date.\n", s.stamp(), trigger, pluralize(p.Summary.NoOp, "image"))
		}
		return nil, false
	}
	if err := checkCredits(p, s.sel.maxCredit); err != nil {
		views.WriteError(e.stdio.Err, err, e.color(false, e.stdio.ErrTerminal))
		fmt.Fprintf(s.out, "[%s] %s: %s: not applied.\n", s.stamp(), trigger, summary(p))
		return nil, false
	}
	provider, err := e.newProvider(p, ld.cfg)
	if err != nil {
		views.WriteError(e.stdio.Err, err, e.color(false, e.stdio.ErrTerminal))
		fmt.Fprintf(s.out, "[%s] %s: %s: not applied.\n", s.stamp(), trigger, summary(p))
		return nil, false
	}
	fmt.Fprintf(s.out, "[%s] %s: %s …\n", s.stamp(), trigger, summary(p))
	return s.apply(p, ld, provider, start)
}

func firstLine(err error) string {
	if err == errConfig {
		return "the configuration has errors"
	}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return msg
}

// applyResult is what the apply goroutine hands back.
type applyResult struct {
	res *executor.Result
	err error
}

// apply carries out p while it keeps watching: a save that makes an
// in-flight request obsolete cancels that request (its result is
// discarded, so nothing is recorded under inputs it was not made from), and
// any save stops the run from starting more, so that the next plan takes
// over. Ctrl-C stops the run too, letting requests in flight finish for
// watchGrace before cancelling them.
func (s *watchSession) apply(p *planner.Plan, ld *loaded, provider executor.Provider, start time.Time) (next *watch.Event, stopped bool) {
	e := s.e
	wp := watch.NewSuperseding(provider)
	runCtx, cancelRun := context.WithCancel(e.ctx)
	defer cancelRun()
	runStop := make(chan struct{})
	var stopOnce sync.Once
	stopRun := func() { stopOnce.Do(func() { close(runStop) }) }

	total := 0
	for _, c := range p.Changes {
		if c.Action != planner.NoOp {
			total++
		}
	}
	var progress views.Progress
	if e.stdio.ErrTerminal {
		progress = views.NewLiveProgress(e.stdio.Err, total, e.color(false, true), s.now)
	} else {
		progress = views.NewLineProgress(e.stdio.Err, total, s.now)
	}
	hooks := &watchHooks{progress: progress}
	if s.srv != nil {
		hooks.gallery = s.srv.Hooks()
	}
	parallelism := s.parallelism
	if parallelism == 0 {
		parallelism = ld.cfg.Provider.Parallelism
	}
	rec := state.NewRecorder(filepath.Join(e.dir, state.LockFileName), ld.lock)
	done := make(chan applyResult, 1)
	go func() {
		res, err := executor.Apply(runCtx, p, executor.Options{
			Dir:         e.dir,
			Provider:    wp,
			Recorder:    rec,
			Cache:       state.OpenCache(e.dir),
			Hooks:       hooks,
			Parallelism: parallelism,
			MaxRetries:  ld.cfg.Provider.MaxRetries,
			Stop:        runStop,
		})
		done <- applyResult{res, err}
	}()

	events := s.w.Events()
	interrupt := e.stdio.Stop
	var grace <-chan time.Time
	var r applyResult
wait:
	for {
		select {
		case r = <-done:
			break wait
		case ev, ok := <-events:
			if !ok {
				events = nil
				stopRun()
				continue
			}
			next = merge(next, ev)
			if len(ev.Config) == 0 && ev.Err == nil {
				continue // outputs removed (often by this very run): re-plan after it
			}
			// A save: cancel what it made obsolete, start nothing more.
			if cfg, diags := config.Load(e.dir, config.LoadOptions{Vars: s.sel.vars, VarFiles: s.sel.varFiles, Environ: e.stdio.Environ}); cfg != nil && !diags.HasErrors() {
				wp.Supersede(watch.ObsoleteIn(cfg))
				stopRun()
			}
			// A broken save leaves the run alone; the plan after it shows
			// the diagnostics.
		case <-interrupt:
			interrupt = nil
			stopped = true
			stopRun()
			grace = time.After(watchGrace)
		case <-grace:
			grace = nil
			cancelRun()
		}
	}
	progress.Close()
	cerr := rec.Close()
	res, err := r.res, r.err
	if cerr != nil && err == nil {
		err = fmt.Errorf("write lockfile: %w", cerr)
	}
	line := fmt.Sprintf("[%s] done in %.2fs: %s", s.stamp(), s.now().Sub(start).Seconds(), resultLine(res, wp.Count()))
	switch {
	case stopped:
		line = fmt.Sprintf("[%s] interrupted after %.2fs: %s", s.stamp(), s.now().Sub(start).Seconds(), resultLine(res, wp.Count()))
	case next != nil && res.Skipped+wp.Count() > 0:
		line = fmt.Sprintf("[%s] stopped for a newer save after %.2fs: %s", s.stamp(), s.now().Sub(start).Seconds(), resultLine(res, wp.Count()))
	}
	fmt.Fprintln(s.out, line)
	// Say what went wrong, unless the run only stopped because watch asked
	// it to (Ctrl-C, a newer save) or its only failures were superseded
	// renders.
	realFailures := res.Failed - wp.Count()
	switch {
	case err == nil || stopped:
	case res.Stopped == nil && realFailures == 0:
	case errors.Is(res.Stopped, executor.ErrInterrupted) && realFailures == 0:
	default:
		views.WriteError(e.stdio.Err, err, e.color(false, e.stdio.ErrTerminal))
	}
	return next, stopped || s.stopping()
}

// merge adds ev to the pending event.
func merge(pending *watch.Event, ev watch.Event) *watch.Event {
	if pending == nil {
		return &ev
	}
	pending.Config = appendNew(pending.Config, ev.Config)
	pending.Outputs = appendNew(pending.Outputs, ev.Outputs)
	if pending.Err == nil {
		pending.Err = ev.Err
	}
	return pending
}

func appendNew(list, add []string) []string {
	for _, a := range add {
		found := false
		for _, l := range list {
			if l == a {
				found = true
				break
			}
		}
		if !found {
			list = append(list, a)
		}
	}
	return list
}

// resultLine summarizes a run in one line: only the counts that are not zero.
func resultLine(r *executor.Result, superseded int) string {
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(r.Generated, "generated")
	add(r.Restored, "restored from cache")
	add(r.Moved, "moved")
	add(r.Deleted, "deleted")
	add(superseded, "superseded")
	add(r.Failed-superseded, "failed")
	add(r.Skipped, "not started")
	add(r.Throttled, "throttled")
	if len(parts) == 0 {
		return "nothing done"
	}
	return strings.Join(parts, ", ")
}

// watchHooks sends executor events to the progress view and the gallery,
// and reports a superseded render as such rather than as a failure.
type watchHooks struct {
	progress views.Progress
	gallery  executor.Hooks // nil without -serve
}

var _ executor.Hooks = (*watchHooks)(nil)

func (h *watchHooks) each(f func(executor.Hooks)) {
	f(h.progress)
	if h.gallery != nil {
		f(h.gallery)
	}
}

func (h *watchHooks) Started(c *planner.Change, attempt int) {
	h.each(func(x executor.Hooks) { x.Started(c, attempt) })
}

func (h *watchHooks) Retrying(c *planner.Change, attempt int, err error, wait time.Duration) {
	h.each(func(x executor.Hooks) { x.Retrying(c, attempt, err, wait) })
}

func (h *watchHooks) Throttled(c *planner.Change, t executor.Throttle) {
	h.each(func(x executor.Hooks) { x.Throttled(c, t) })
}

func (h *watchHooks) Completed(c *planner.Change, e state.Entry, how executor.How) {
	h.each(func(x executor.Hooks) { x.Completed(c, e, how) })
}

func (h *watchHooks) Failed(c *planner.Change, err error) {
	if errors.Is(err, watch.ErrSuperseded) {
		h.progress.Warn(c, "superseded by a newer save; its result is discarded")
		return // the next plan sets the gallery's card
	}
	h.each(func(x executor.Hooks) { x.Failed(c, err) })
}

func (h *watchHooks) Warn(c *planner.Change, msg string) {
	h.each(func(x executor.Hooks) { x.Warn(c, msg) })
}
