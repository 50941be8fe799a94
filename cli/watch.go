package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/draft"
	"github.com/pixform/pixform/executor"
	"github.com/pixform/pixform/gallery"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
	"github.com/pixform/pixform/views"
	"github.com/pixform/pixform/watch"
)

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

func (e *env) watch(args []string) int {
	var sel selection
	var parallelism int
	fs := newFlagSet("watch", "watch [options]")
	fs.Var(&sel.vars, "var", "set a variable: `NAME=VALUE` (repeatable)")
	fs.Var(&sel.varFiles, "var-file", "load variable values from `FILE` (repeatable; watched too)")
	fs.Var(&sel.targets, "target", "limit the plans to the image at `ADDR` (repeatable)")
	fs.StringVar(&sel.provider, "provider", "", "renderer `NAME`: imagine (default, or $PIXFORM_PROVIDER) or draft (offline placeholders)")
	fs.BoolVar(&sel.noColor, "no-color", false, "disable colour")
	fs.BoolVar(&sel.noCache, "no-cache", false, "render every create and replace anew instead of restoring it from the local content cache")
	maxCreditsFlag(fs, &sel.maxCredit, "skip a change that would spend more than `N` credits, or bring the session's spending over N")
	autoApprove := fs.Bool("auto-approve", false, "apply every change without asking, deletions too (the Imagine provider otherwise asks before the first change and before any that deletes files)")
	fs.IntVar(&parallelism, "parallelism", 0, "upper bound of `N` requests in flight (default: the provider block's parallelism, or 4)")
	var serve serveFlag
	fs.Var(&serve, "serve", "serve a live gallery: -serve (on "+defaultServe+"), -serve=:PORT or -serve=HOST:PORT")
	debounce := fs.Duration("debounce", 0, "quiet time (a `DURATION`) after a save before planning (default 100ms for drafts, 1s for the Imagine API, where every save planned sends paid requests); with drafts, a save whose files were closed by their writer and are whole is planned sooner, and applied then unless it would delete or move an image (saves the Imagine API renders, in seconds, always wait the debounce)")
	storeFlag(fs, &sel.store)
	lockTimeout := fs.Duration("lock-timeout", 0, "how long (a `DURATION` such as 30s) to wait for another pixform in this directory, here or, with an image store, on another machine")
	if err := fs.Parse(args); err != nil {
		return e.flagExit(fs, err)
	}
	sel.refresh = "fast"
	e.noColor = e.noColor || sel.noColor
	if fs.NArg() > 0 {
		return e.fail(fmt.Errorf("watch takes no arguments, got %q", fs.Args()))
	}
	if parallelism < 0 {
		return e.fail(fmt.Errorf("-parallelism=%d: must be at least 1", parallelism))
	}
	provider, err := e.providerName(sel.provider)
	if err != nil {
		return e.fail(err)
	}
	if provider == providers.Imagine && !*autoApprove && !e.stdio.InTerminal {
		return e.fail(views.WithHint(errors.New("watch renders with the Imagine API, which spends credits, and needs approval; stdin is not a terminal, so nothing was changed"),
			"pass -auto-approve to apply every change without asking (and -max-credits=N to bound the spending), or render offline placeholders with -provider=draft"))
	}
	release, err := e.acquire("pixform watch", *lockTimeout)
	if err != nil {
		return e.fail(err)
	}
	defer release()
	defer e.closeStore()
	sel.storeOp, sel.storeWait = "watch", *lockTimeout

	// Until a plan says which provider renders, the one chosen now does:
	// saves before the first good plan are paid ones too.
	w, err := watch.New(watch.Options{Dir: e.dir, VarFiles: sel.varFiles, Debounce: watch.DebounceFor(provider, *debounce)})
	if err != nil {
		return e.fail(err)
	}
	defer w.Close()
	// The plans print their diagnostics through held: those of a plan of
	// a save taken early that is not applied are never printed (the plan
	// made again after the debounce prints its own). The session's own
	// output goes to stderr itself (its live progress asks its width).
	stderr := e.stdio.Err
	held := watch.NewHeld(stderr)
	e.stdio.Err = held
	var srv *gallery.Server // set below with -serve
	var s *watch.Session    // the Plan function sets its Sync once the store is open
	s = &watch.Session{
		Dir:         e.dir,
		Watcher:     w,
		Out:         e.stdio.Out,
		Err:         stderr,
		Held:        held,
		ErrColor:    e.color(false, e.stdio.ErrTerminal),
		ErrTerminal: e.stdio.ErrTerminal,
		Stop:        e.stdio.Stop,
		Now:         time.Now,
		Parallelism: parallelism,
		MaxCredits:  sel.maxCredit,
		Debounce:    *debounce,
		Plan: func() (*watch.Planned, error) {
			p, ld, err := e.makePlan(&sel)
			if err != nil {
				if ld != nil {
					return &watch.Planned{Config: ld.cfg}, err
				}
				return nil, err
			}
			if srv != nil && ld.cfg != nil {
				srv.SetLimits(gallery.LimitsOf(ld.cfg.Provider))
			}
			s.Sync = e.link.syncOf()
			return &watch.Planned{Plan: p, Config: ld.cfg, Lock: ld.lock, Cache: ld.cache}, nil
		},
		Reload: func() *config.Config {
			cfg, diags := config.Load(e.dir, config.LoadOptions{Vars: sel.vars, VarFiles: sel.varFiles, Environ: e.stdio.Environ})
			if diags.HasErrors() {
				return nil
			}
			return cfg
		},
		NewProvider: e.watchProvider(),
		AutoApprove: *autoApprove,
	}
	if e.stdio.InTerminal {
		s.Ask = func(question string) string {
			fmt.Fprint(e.stdio.Out, question)
			return e.readLine()
		}
	}

	if serve.set {
		ln, err := net.Listen("tcp", serve.addr)
		if err != nil {
			return e.fail(views.WithHint(fmt.Errorf("serve the gallery on %s: %w", serve.addr, err),
				"choose another port: -serve=:8081"))
		}
		srv = gallery.NewServer(e.dir, filepath.Base(e.dir))
		// The gallery answers the name it was asked to listen on and the
		// address it printed, besides the connection's own address.
		host, _, _ := net.SplitHostPort(serve.addr)
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		srv.AllowHost(net.JoinHostPort(host, port))
		srv.AllowHost(ln.Addr().String())
		s.Gallery = srv
		srv.SetActions(galleryActions{e: e, s: s})
		var served sync.WaitGroup
		served.Go(func() {
			if err := srv.Serve(ln); err != nil {
				fmt.Fprintf(e.stdio.Err, "pixform: gallery server stopped: %v\n", err)
			}
		})
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			srv.Shutdown(ctx)
			served.Wait()
		}()
		fmt.Fprintf(e.stdio.Out, "Gallery: http://%s/\n", ln.Addr())
	}
	fmt.Fprintf(e.stdio.Out, "Watching %s for changes to *.pix.hcl, variable files and the files images are made from. Press Ctrl-C to stop.\n", e.dir)
	s.Run(e.ctx)
	sent := ""
	if n, credits, cancelled, unpriced := s.Spent(); n > 0 {
		// Unpriced requests are not "0 credits": they are said apart.
		switch {
		case unpriced == n:
			sent = fmt.Sprintf(" after %s, unpriced", views.Plural(n, "request"))
		case unpriced > 0:
			sent = fmt.Sprintf(" after %s (%d unpriced) for %s", views.Plural(n, "request"), unpriced, views.Plural(credits, "credit"))
		default:
			sent = fmt.Sprintf(" after %s for %s", views.Plural(n, "request"), views.Plural(credits, "credit"))
		}
		if cancelled > 0 {
			sent += fmt.Sprintf(" (%d cancelled by a newer save, which the vendor may bill)", cancelled)
		}
	}
	fmt.Fprintf(e.stdio.Out, "[%s] stopped watching%s; %s is up to date with every image that finished.\n", time.Now().Format("15:04:05"), sent, state.LockFileName)
	return ExitOK
}

// watchProvider is newProvider for a watch session, except that every
// save's drafts are rendered by one draft renderer: a new one parses its
// fonts and allocates its canvas (2.4 MB at 1024×1024) and compressor
// anew, which was 45% of the CPU time of a save's render (60 saves of a
// 1024×576 draft: 1.24 s in Render, 0.69 s with one renderer).
func (e *env) watchProvider() func(*planner.Plan, *config.Config) (executor.Provider, error) {
	var drafts *draft.Renderer
	return func(p *planner.Plan, cfg *config.Config) (executor.Provider, error) {
		if p.Provider != providers.Draft {
			return e.newProvider(p, cfg, "", nil)
		}
		if drafts == nil {
			drafts = draft.New()
		}
		return drafts, nil
	}
}
