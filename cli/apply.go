package cli

import (
	"bufio"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/draft"
	"github.com/pixform/pixform/executor"
	"github.com/pixform/pixform/imagine"
	"github.com/pixform/pixform/planfile"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/run"
	"github.com/pixform/pixform/state"
	"github.com/pixform/pixform/views"
)

// applyFlags are apply's own flags beside the selection.
type applyFlags struct {
	autoApprove bool
	parallelism int
	json        bool
	lockTimeout time.Duration

	// maxCredits is -max-credits, set by carryOut: with planFile, it
	// bounds the requests the plan did not count.
	maxCredits int
	// planFile is the saved plan's name as given, "" for a plan made now.
	planFile string
}

func (e *env) apply(args []string) int {
	var sel selection
	var af applyFlags
	fs := newFlagSet("apply", "apply [options] [PLANFILE]")
	sel.register(fs)
	fs.BoolVar(&af.autoApprove, "auto-approve", false, "apply without asking for confirmation")
	fs.IntVar(&af.parallelism, "parallelism", 0, "upper bound of `N` requests in flight (default: the provider block's parallelism, or 4)")
	fs.BoolVar(&af.json, "json", false, "print one JSON event a line")
	fs.DurationVar(&af.lockTimeout, "lock-timeout", 0, "how long (a `DURATION` such as 30s) to wait for another pixform apply in this directory")
	if err := fs.Parse(args); err != nil {
		return e.flagExit(fs, err)
	}
	e.noColor = e.noColor || sel.noColor
	if af.json {
		e.jsonOut = jsonEvents
	}
	if fs.NArg() > 1 {
		return e.fail(views.WithHint(fmt.Errorf("apply takes at most one argument, a saved plan file, but got %q", fs.Args()),
			"options go before the plan file: pixform apply -auto-approve plan.bin"))
	}
	if af.parallelism < 0 {
		return e.fail(fmt.Errorf("-parallelism=%d: must be at least 1", af.parallelism))
	}
	release, err := e.acquire("pixform apply", af.lockTimeout)
	if err != nil {
		return e.fail(err)
	}
	defer release()
	defer e.closeStore()
	sel.storeOp, sel.storeWait = "apply", af.lockTimeout

	var p *planner.Plan
	var ld *loaded
	if fs.NArg() == 1 {
		// -var-file may only name again the files the plan was made
		// with (loadSavedPlan checks): the user's own argument, where
		// the plan file's names are read only inside the directory.
		if len(sel.vars)+len(sel.targets)+len(sel.replace) > 0 || sel.provider != "" {
			return e.fail(views.WithHint(errors.New("a saved plan is applied as it was made: -var, -var-file, -target, -replace and -provider cannot be changed"),
				"make a new plan with those options: pixform plan -out=FILE …"))
		}
		af.planFile = fs.Arg(0)
		p, ld, err = e.loadSavedPlan(fs.Arg(0), &sel)
		if err != nil {
			return e.fail(err)
		}
	} else {
		p, ld, err = e.makePlan(&sel)
		if err != nil {
			return e.fail(err)
		}
	}
	return e.carryOut(p, ld, &sel, &af)
}

// loadSavedPlan reads a plan file and refuses it when the configuration or
// the lockfile changed since it was made.
func (e *env) loadSavedPlan(name string, sel *selection) (*planner.Plan, *loaded, error) {
	pf, err := planfile.Read(e.abs(name), name)
	if err != nil {
		return nil, nil, err
	}
	replan := "make a new plan: pixform plan -out=" + name
	// A plan file can come from anyone (a CI artifact): the variable
	// files it names are read only inside the working directory, and
	// one that is not is refused before anything is read, unless the
	// user names the plan's files again (-var-file: their own argument).
	named := len(sel.varFiles) > 0
	if named && !slices.Equal(sel.varFiles, pf.VarFiles) {
		return nil, nil, views.WithHint(fmt.Errorf("a saved plan is applied with the variable files it was made with: %s names %s, and -var-file gave %s", name, varFileList(pf.VarFiles), varFileList(sel.varFiles)),
			"name the files the plan was made with, in its order, or none; or "+replan)
	}
	if !named {
		if err := config.CheckPlanVarFiles(e.dir, pf.VarFiles); err != nil {
			return nil, nil, views.WithHint(planVarFileError(name, err), replan+"; or, if you made this plan with its variable files yourself, name them again as you did for plan (pixform apply -var-file=FILE … "+name+"): a file the plan file alone names is read only inside the working directory")
		}
	}
	cfg, ok := e.loadConfigOpts(config.LoadOptions{Vars: pf.Vars, VarFiles: pf.VarFiles, VarFilesFromPlan: !named, Environ: e.stdio.Environ})
	if !ok {
		return nil, nil, errConfig
	}
	link, err := e.linkStore(sel.store, cfg, sel.storeOp, sel.storeWait)
	if err != nil {
		return nil, nil, err
	}
	lock, lockDigest, err := e.readTrustedLock()
	if err != nil {
		return nil, nil, err
	}
	if cfg.Digest != pf.ConfigDigest {
		return nil, nil, views.WithHint(fmt.Errorf("the saved plan %s is stale: the images it declares changed since it was made (in a *.pix.hcl file, or through a variable's value from -var, -var-file, a *.pixvars.hcl file or PIXFORM_VAR_*)", name), replan)
	}
	if lockDigest != pf.LockDigest {
		return nil, nil, views.WithHint(fmt.Errorf("the saved plan %s is stale: %s changed since it was made (another apply ran, or it was edited)", name, state.LockFileName), replan)
	}
	cache := state.OpenCache(e.dir)
	lookups, storeErr := e.restoreLookups(cache, pf.Plan.Provider, link)
	if err := pf.Check(cfg, lock, planfile.WithRestores(planfile.DirDisk(e.dir), lookups)); err != nil {
		if *storeErr != nil {
			return nil, nil, *storeErr
		}
		return nil, nil, views.WithHint(fmt.Errorf("the saved plan %s does not match the configuration: %w", name, err), replan)
	}
	left, _, err := e.leftovers(lock)
	if err != nil {
		return nil, nil, err
	}
	return pf.Plan, &loaded{cfg: cfg, lock: lock, lockDigest: lockDigest, leftovers: left, cache: cache, madeWith: func() []string { return madeWith(pf, cfg) }}, nil
}

// madeWith returns the options that make pf's plan again, as plan takes
// them: its -var and -var-file, a -target for each image of a plan that
// leaves some declared image out (the plan file keeps the images its
// -target selected, not the flags), and its -replace.
func madeWith(pf *planfile.File, cfg *config.Config) []string {
	var args []string
	for _, v := range pf.Vars {
		args = append(args, "-var="+v)
	}
	for _, f := range pf.VarFiles {
		args = append(args, "-var-file="+f)
	}
	declared := 0
	for i := range pf.Plan.Changes {
		if pf.Plan.Changes[i].Action != planner.Delete {
			declared++
		}
	}
	if declared < len(cfg.Images) {
		for i := range pf.Plan.Changes {
			args = append(args, "-target="+pf.Plan.Changes[i].Addr.String())
		}
	}
	for _, a := range pf.Replace {
		args = append(args, "-replace="+a.String())
	}
	return args
}

// restoreLookups are the content cache's (cache) and the image store's
// lookups (link: nil for none) that a saved plan's check asks, as
// planning asks them, of an image restored with no request whose bytes an
// image made from it expects. The store's records, and whether it holds
// an object, are read as they are asked for; *storeErr is the first
// failure to read them.
func (e *env) restoreLookups(cache *state.Cache, provider string, link *linked) (planner.Input, *error) {
	in := planner.Input{
		Provider: provider,
		Cached:   cache.Intact,
		CachedSHA256: func(digest, provider string) (string, bool) {
			info, ok := cache.Info(digest, provider)
			return info.SHA256, ok
		},
	}
	storeErr := new(error)
	if link != nil {
		fetched := map[string]bool{}
		in.Stored = func(digest, provider string) (string, bool) {
			if !fetched[digest] {
				fetched[digest] = true
				if err := link.sync.FetchRecords(e.ctx, []string{digest}); err != nil {
					if *storeErr == nil {
						*storeErr = err
					}
					return "", false
				}
			}
			return link.sync.Stored(digest, provider)
		}
		// A take put back by the sha256 its entry records is restored
		// by that object when the store holds it (storesync's Cache asks
		// the store then): asked of the store here the same way, one
		// check per take asked, whatever this checkout's note knows.
		in.InStore = func(sum string) bool {
			if link.sync.InStore(sum) {
				return true
			}
			if err := link.sync.Check(e.ctx, []string{sum}); err != nil {
				if *storeErr == nil {
					*storeErr = err
				}
				return false
			}
			return link.sync.InStore(sum)
		}
	}
	return in, storeErr
}

// varFileList names the variable files fs for a message: "none" when
// there are none.
func varFileList(fs []string) string {
	if len(fs) == 0 {
		return "none"
	}
	return strings.Join(fs, ", ")
}

// planVarFileError says that the saved plan name names a variable file
// outside the working directory (CheckPlanVarFiles' error).
func planVarFileError(name string, err error) error {
	const why = "pixform reads a variable file that a plan file names only inside it, since a plan file can come from anyone (a CI artifact); nothing was read"
	var lo *config.LinkOutside
	if errors.As(err, &lo) {
		if lo.Link == lo.Path {
			return fmt.Errorf("the saved plan %s names the variable file %s, a symbolic link to %s, outside the working directory: %s", name, lo.Path, lo.Target, why)
		}
		return fmt.Errorf("the saved plan %s names the variable file %s, which leads through %s, a symbolic link to %s, outside the working directory: %s", name, lo.Path, lo.Link, lo.Target, why)
	}
	var ni *config.NotInside
	if errors.As(err, &ni) {
		return fmt.Errorf("the saved plan %s names the variable file %s, outside the working directory: %s", name, ni.Path, why)
	}
	return err
}

// draftPlanHint is the way to placeholders from the saved plan planFile,
// made with the options madeWith: a plan of drafts made with them, then
// its apply, as commands quoted for the shell. A value that a terminal
// would not show as it is (a control character, from a plan file anyone
// could have made) gets the way in words instead.
func draftPlanHint(planFile string, madeWith []string) string {
	plan, ok1 := views.ShellCommand(append(append([]string{"pixform", "plan", "-provider=draft"}, madeWith...), "-out="+planFile)...)
	apply, ok2 := views.ShellCommand("pixform", "apply", planFile)
	if !ok1 || !ok2 {
		return "or render offline placeholders instead: make a plan for them with the options this plan was made with (-var, -var-file, -target, -replace) and -provider=draft, then apply it"
	}
	return fmt.Sprintf("or render offline placeholders instead: make a plan for them, %s, then %s", plan, apply)
}

// carryOut shows the plan, asks for approval, and applies it.
func (e *env) carryOut(p *planner.Plan, ld *loaded, sel *selection, af *applyFlags) int {
	saved := af.planFile != ""
	outColor := e.color(false, e.stdio.OutTerminal)
	var jsonEvents views.Progress
	if af.json {
		jsonEvents = views.NewJSONProgress(e.stdio.Out, time.Now)
		views.WritePlanEvent(e.stdio.Out, p)
	} else if !saved || !p.HasChanges() {
		views.WritePlanWith(e.stdio.Out, p, views.PlanOptions{Color: outColor, Verbose: sel.verbose})
		views.WriteLeftovers(e.stdio.Out, ld.leftovers, outColor)
	}
	if err := run.CheckCredits(p, sel.maxCredit); err != nil {
		return e.fail(err)
	}
	af.maxCredits = sel.maxCredit
	if !p.HasChanges() && len(ld.leftovers) == 0 {
		if p.HasUploads() && e.link != nil {
			// Only uploads: free, and nothing here changes; no question.
			return e.execute(p, ld, nil, af, jsonEvents)
		}
		if err := e.link.settle(e); err != nil {
			return e.fail(err)
		}
		if sw, ok := jsonEvents.(views.SummaryWriter); ok {
			// Every apply -json ends with its summary, an apply with
			// nothing to do too.
			sw.Summary(&executor.Result{})
		}
		return ExitOK
	}
	provider, err := e.newProvider(p, ld.cfg, af.planFile, ld.madeWith)
	if err != nil {
		return e.fail(err)
	}
	if !saved && !af.autoApprove {
		if !e.stdio.InTerminal {
			return e.fail(views.WithHint(errors.New("apply needs confirmation and stdin is not a terminal; nothing was changed"),
				"pass -auto-approve to apply without asking (as in CI), or apply a saved plan: pixform apply FILE"))
		}
		if af.json {
			// Standard output is the event stream: a question there would
			// break it for whatever reads it (as terraform apply -json).
			return e.fail(views.WithHint(errors.New("apply -json cannot ask for approval: its standard output is the JSON event stream; nothing was changed"),
				"pass -auto-approve to apply without asking, or apply a saved plan: pixform apply -json FILE"))
		}
		fmt.Fprint(e.stdio.Out, "\nDo you want to perform these actions?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ")
		if strings.TrimSpace(e.readLine()) != "yes" {
			fmt.Fprintln(e.stdio.Out, "\nApply cancelled; nothing was changed.")
			return ExitError
		}
		fmt.Fprintln(e.stdio.Out)
	}
	return e.execute(p, ld, provider, af, jsonEvents)
}

// readLine reads one line of the answer, or returns "" when the user
// interrupts instead, or stdin ends. One goroutine reads stdin line by line
// for every question (watch asks more than once), and ends with the process.
func (e *env) readLine() string {
	e.linesOnce.Do(func() {
		e.lines = make(chan string)
		go func() {
			r := bufio.NewReader(e.stdio.In)
			for {
				line, err := r.ReadString('\n')
				if line != "" {
					e.lines <- line
				}
				if err != nil {
					close(e.lines)
					return
				}
			}
		}()
	})
	select {
	case line := <-e.lines:
		return line
	case <-e.stdio.Stop:
	case <-e.ctx.Done():
	}
	return ""
}

// newProvider builds the renderer the plan was made for. planFile names
// the saved plan applied ("" for a plan made now), whose provider cannot
// change: the way to placeholders is then a new plan, made with the
// options madeWith that made the saved one.
func (e *env) newProvider(p *planner.Plan, cfg *config.Config, planFile string, madeWith func() []string) (executor.Provider, error) {
	if p.Provider == providers.Draft {
		return draft.New(), nil
	}
	token := e.getenv("IMAGINE_API_TOKEN")
	if token == "" && p.Summary.Requests > 0 {
		drafts := "or render offline placeholders instead: add -provider=draft"
		if planFile != "" {
			var args []string
			if madeWith != nil {
				args = madeWith()
			}
			drafts = draftPlanHint(planFile, args)
		}
		return nil, views.WithHint(errors.New("IMAGINE_API_TOKEN is not set, and this plan sends requests to the Imagine API; nothing was changed"),
			"export IMAGINE_API_TOKEN=<your token from the Imagine dashboard>", drafts)
	}
	if p.Summary.Requests > 0 {
		// Found at the first request, either would fail every image as
		// if the requests had been sent, after the plan was approved.
		if err := imagine.CheckURL(e.getenv("IMAGINE_API_URL"), token); err != nil {
			return nil, views.WithHint(fmt.Errorf("%w; this plan sends requests to the Imagine API, and nothing was changed", err),
				"set IMAGINE_API_URL to the API's endpoint, or unset it for the vendor's: "+imagine.DefaultURL)
		}
		if err := imagine.CheckToken(token); err != nil {
			return nil, fmt.Errorf("%w; nothing was changed", err)
		}
	}
	return imagine.New(imagine.Options{
		URL:         e.getenv("IMAGINE_API_URL"),
		Token:       token,
		Timeout:     cfg.Provider.Timeout,
		IdleTimeout: cfg.Provider.ReadIdleTimeout,
		MaxBytes:    cfg.Provider.MaxImageBytes,
		MaxPixels:   cfg.Provider.MaxImagePixels,
		Version:     Version,
	}), nil
}

// execute runs the plan with the lockfile recorder and a progress view,
// then prints the summary.
func (e *env) execute(p *planner.Plan, ld *loaded, provider executor.Provider, af *applyFlags, jsonEvents views.Progress) int {
	total := run.Pending(p)
	progress := jsonEvents
	switch {
	case progress != nil:
	case e.stdio.ErrTerminal:
		progress = views.NewLiveProgress(e.stdio.Err, total, e.color(false, true), time.Now)
	default:
		progress = views.NewLineProgress(e.stdio.Err, total, time.Now)
	}
	// Warnings of no one change, said once the progress is done with the
	// terminal.
	var warnings run.Warnings
	res, err := run.Apply(e.ctx, p, run.Options{
		Dir:         e.dir,
		Config:      ld.cfg,
		Lock:        ld.lock,
		Cache:       ld.cache,
		Provider:    provider,
		Hooks:       progress,
		Warn:        warnings.Warn,
		Parallelism: af.parallelism,
		Stop:        e.stdio.Stop,
		Sync:        e.link.syncOf(),
		MaxCredits:  af.maxCredits,
		SavedPlan:   af.planFile != "",
		NoToken:     p.Provider == providers.Imagine && e.getenv("IMAGINE_API_TOKEN") == "",
	})
	progress.Close()
	for _, msg := range warnings.List() {
		// apply -json: a warning event, like those of the changes.
		if jw, ok := progress.(interface{ Warning(msg string) }); ok {
			jw.Warning(msg)
			continue
		}
		views.WriteWarning(e.stdio.Err, msg, e.color(false, e.stdio.ErrTerminal))
	}
	if sw, ok := progress.(views.SummaryWriter); ok {
		sw.Summary(res)
	} else {
		views.WriteApplySummary(e.stdio.Out, res, p.Provider, e.color(false, e.stdio.OutTerminal))
	}
	if sy := e.link.syncOf(); sy != nil && !af.json {
		views.WriteUploaded(e.stdio.Out, sy.Uploads(), sy.Remote().String())
	}
	if err != nil {
		if res.Stopped != nil {
			err = res.Stopped
		}
		if res.Stopped != nil || res.Failed > 0 {
			err = views.ApplyHint(err, res, e.dir)
		}
		return e.fail(err)
	}
	return ExitOK
}
