package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"

	"github.com/hashicorp/hcl/v2"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/internal/safepath"
	"github.com/pixform/pixform/objstore"
	"github.com/pixform/pixform/planfile"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/run"
	"github.com/pixform/pixform/state"
	"github.com/pixform/pixform/views"
)

// loaded is the result of reading a working directory: its configuration,
// its lockfile and the lockfile's digest.
type loaded struct {
	cfg        *config.Config
	lock       *state.Lock
	lockDigest string
	// leftovers are the paths an interrupted apply left to delete, which
	// the next apply deletes first.
	leftovers []string
	// facts are the disk's facts the plan was made from (nil for a
	// saved plan).
	facts map[string]planner.FileFact
	// madeWith returns the options a saved plan was made with (-var,
	// -var-file, -target, -replace), as plan takes them, for a hint:
	// nil for a plan made now.
	madeWith func() []string
	// cache is the content cache the plan looked renders up in: apply
	// restores from it, so that the cache directory is listed (and its
	// packs' headers read) once a run, not again by apply. No other
	// apply can write it meanwhile (apply holds the directory's lock);
	// a pack compacted away since is listed again (state.Cache.relist).
	cache *state.Cache
}

// leftovers returns the files an interrupted apply left to delete, and
// what judges the files it left (state.LeftBehind): at the paths it was
// placing images at, less the files apply keeps, and at those it was
// deleting, which the next apply deletes first. Such a file, while it
// holds what that apply put there, is no one else's: a change may write
// over it.
func (e *env) leftovers(lock *state.Lock) ([]string, *state.Leftovers, error) {
	rs, left, err := state.LeftBehind(e.dir, lock)
	if err != nil {
		return nil, nil, err
	}
	paths := make([]string, len(rs))
	for i, r := range rs {
		paths[i] = r.Path
	}
	return paths, left, nil
}

// loadConfig loads the configuration and prints its diagnostics. ok is false
// when there were errors.
func (e *env) loadConfig(vars, varFiles []string) (*config.Config, bool) {
	return e.loadConfigStats(vars, varFiles, nil)
}

// loadConfigStats is loadConfig with the lstat of each image path made
// through stats (nil: its own), to be shared with the plan's other checks.
func (e *env) loadConfigStats(vars, varFiles []string, stats *safepath.Stats) (*config.Config, bool) {
	return e.loadConfigOpts(config.LoadOptions{Vars: vars, VarFiles: varFiles, Environ: e.stdio.Environ, Stats: stats})
}

// loadConfigOpts is loadConfig with every option of config.Load.
func (e *env) loadConfigOpts(opts config.LoadOptions) (*config.Config, bool) {
	cfg, diags := config.Load(e.dir, opts)
	return e.reportConfig(cfg, diags)
}

// reportConfig prints the diagnostics of a configuration's load. ok is
// false when there were errors.
func (e *env) reportConfig(cfg *config.Config, diags hcl.Diagnostics) (*config.Config, bool) {
	var files map[string]*hcl.File
	if cfg != nil {
		files = cfg.Files
	}
	views.WriteDiagnostics(e.stdio.Err, diags, files, e.color(false, e.stdio.ErrTerminal))
	if diags.HasErrors() || cfg == nil {
		n := 0
		for _, d := range diags {
			if d.Severity == hcl.DiagError {
				n++
			}
		}
		msg := fmt.Sprintf("the configuration has %s; nothing was planned or changed", views.Plural(n, "error"))
		fmt.Fprintf(e.stdio.Err, "pixform: %s.\n", msg)
		e.failJSON(views.NewJSONFailure(errors.New(msg), diags))
		return nil, false
	}
	return cfg, true
}

// readLock reads the lockfile and returns it with the digest of its bytes
// (the digest of no bytes when it does not exist).
func (e *env) readLock() (*state.Lock, string, error) { return e.loadLock(false) }

// readTrustedLock is readLock for the commands that read, write or delete
// the files the lockfile names (plan, apply, watch, gallery): it also
// refuses a lockfile whose paths go through a symbolic link, before any of
// them is touched. show and state rm only read the lockfile, so that a
// refused entry can still be seen and removed.
func (e *env) readTrustedLock() (*state.Lock, string, error) { return e.loadLock(true) }

func (e *env) loadLock(onDisk bool) (*state.Lock, string, error) {
	return e.loadLockDigest(onDisk, nil, true)
}

// loadLockDigest is loadLock with the lstat of each path checked on disk
// made through stats (nil: its own), returning the digest only when
// wantDigest is set ("" otherwise).
func (e *env) loadLockDigest(onDisk bool, stats *safepath.Stats, wantDigest bool) (*state.Lock, string, error) {
	return e.loadLockShare(onDisk, stats, wantDigest, false, false)
}

// loadLockShare is loadLockDigest; with share, the entries' strings point
// into the bytes read (state.ParseLockShared), for a plan that keeps its
// lock as long as it runs: only an apply or a watch, which replace
// entries as they go, should not keep the whole file for the entries
// left. beside says that it runs beside the configuration's load
// (state.ParseLockShared).
func (e *env) loadLockShare(onDisk bool, stats *safepath.Stats, wantDigest, share, beside bool) (*state.Lock, string, error) {
	path := filepath.Join(e.dir, state.LockFileName)
	b, err := state.ReadLockFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if !wantDigest {
			return state.NewLock(), "", nil
		}
		return state.NewLock(), digest(nil), nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("read lockfile: %w", err)
	}
	var lock *state.Lock
	if share {
		lock, err = state.ParseLockShared(b, state.LockFileName, beside)
	} else {
		lock, err = state.ParseLock(b, state.LockFileName)
	}
	if err != nil {
		return nil, "", err
	}
	if onDisk {
		if err := state.CheckLockPathsStats(e.dir, lock, b, state.LockFileName, stats); err != nil {
			return nil, "", err
		}
	}
	if !wantDigest {
		return lock, "", nil
	}
	return lock, digest(b), nil
}

// readAhead is the lockfile and the stat cache of a plan, read on
// goroutines of their own (env.readStatCacheAhead, readLockAhead).
type readAhead struct {
	done       sync.WaitGroup
	lock       *state.Lock
	lockDigest string
	lockErr    error
	statCache  *state.StatCache
	// lockStarted says that readLockAhead was called.
	lockStarted bool
}

// readStatCacheAhead starts reading the stat cache; readLockAhead then
// starts reading the lockfile (as loadLockShare(true, stats, wantDigest,
// true, beside)). Both only read: the plan takes what they found, or
// nothing, once wait returns.
func (e *env) readStatCacheAhead(stats *safepath.Stats) *readAhead {
	r := &readAhead{}
	r.done.Go(func() {
		r.statCache = state.ReadStatCache(e.dir)
		// Then the files it names are looked at, until the
		// configuration's own path checks start (they are most of them);
		// with no stats, none.
		stats.Warm(r.statCache.Paths())
	})
	return r
}

// statCacheOutweighsConfig reports whether the working directory's stat
// cache holds more bytes than its configuration files.
func (e *env) statCacheOutweighsConfig() bool {
	info, err := os.Stat(filepath.Join(e.dir, state.WorkDirName, state.StatCacheName))
	return err == nil && info.Size() > config.Size(e.dir)
}

// readLockAhead starts reading the lockfile as readAhead does; beside
// says that the configuration is still loading (loadLockShare's: then
// the lockfile is scanned on this goroutine alone, rather than in two
// halves on both cores).
func (r *readAhead) readLockAhead(e *env, stats *safepath.Stats, wantDigest, beside bool) {
	r.lockStarted = true
	r.done.Go(func() { r.lock, r.lockDigest, r.lockErr = e.loadLockShare(true, stats, wantDigest, true, beside) })
}

// wait returns once every read has finished.
func (r *readAhead) wait() { r.done.Wait() }

func digest(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// facts checks the disk for every path the plan may touch: every lockfile
// entry's file (hashed through the stat cache) and every desired path (only
// whether something is there, which config.Load already saw).
func (e *env) facts(cfg *config.Config, lock *state.Lock, full bool) (map[string]state.FileFact, error) {
	return e.factsStats(cfg, lock, full, nil)
}

// factsStats is facts with each file's lstat made through stats (nil:
// its own), which the plan's path checks filled.
func (e *env) factsStats(cfg *config.Config, lock *state.Lock, full bool, stats *safepath.Stats) (map[string]state.FileFact, error) {
	return e.factsCache(cfg, lock, full, stats, nil)
}

// factsCache is factsStats with the stat cache read ahead (nil: read it
// now).
func (e *env) factsCache(cfg *config.Config, lock *state.Lock, full bool, stats *safepath.Stats, cache *state.StatCache) (map[string]state.FileFact, error) {
	// The checked-in files derived images are made from are inputs too.
	facts, err := state.RefreshStatsCache(e.dir, lock, cfg.InputFiles(), full, stats, cache)
	if err != nil {
		return nil, err
	}
	// A path no entry records that holds something is hashed, so that the
	// plan tells a file of the very bytes it would write there from
	// someone's, which apply must not overwrite.
	var unrecorded []string
	for _, img := range cfg.Images {
		if _, ok := facts[img.Path]; ok {
			continue
		}
		if img.OnDisk {
			unrecorded = append(unrecorded, img.Path)
		}
	}
	if len(unrecorded) == 0 {
		return facts, nil
	}
	more, err := state.FactsOf(e.dir, unrecorded)
	if err != nil {
		return nil, err
	}
	for p, f := range more {
		facts[p] = f
	}
	return facts, nil
}

// providerName resolves -provider and PIXFORM_PROVIDER.
func (e *env) providerName(flagValue string) (string, error) {
	p, from := flagValue, "-provider"
	if p == "" {
		p, from = e.getenv("PIXFORM_PROVIDER"), "PIXFORM_PROVIDER"
	}
	if p == "" {
		p = providers.Imagine
	}
	if !providers.Known(p) {
		if from == "PIXFORM_PROVIDER" {
			return "", views.WithHint(fmt.Errorf("unknown provider %q in the environment variable PIXFORM_PROVIDER", p),
				"set PIXFORM_PROVIDER to imagine (the Imagine API) or draft (offline placeholders), or unset it")
		}
		return "", views.WithHint(fmt.Errorf("unknown provider %q", p), "use -provider=imagine (the Imagine API) or -provider=draft (offline placeholders)")
	}
	return p, nil
}

func parseAddrs(flag string, list []string) ([]addrs.Addr, error) {
	var out []addrs.Addr
	for _, s := range list {
		a, err := addrs.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", flag, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// makePlan loads everything and diffs it. It prints configuration
// diagnostics itself and then returns errConfig, with a loaded that holds
// only the configuration as far as it loaded.
func (e *env) makePlan(sel *selection) (*planner.Plan, *loaded, error) {
	provider, err := e.providerName(sel.provider)
	if err != nil {
		return nil, nil, err
	}
	if sel.refresh != "fast" && sel.refresh != "full" {
		return nil, nil, fmt.Errorf("-refresh=%s: use -refresh=fast (stat cache) or -refresh=full (hash every file)", sel.refresh)
	}
	targets, err := parseAddrs("-target", sel.targets)
	if err != nil {
		return nil, nil, err
	}
	replace, err := parseAddrs("-replace", sel.replace)
	if err != nil {
		return nil, nil, err
	}
	// One lstat per file for the whole plan: the configuration's path
	// checks, the lockfile's and the stat cache's share it.
	stats := safepath.NewStats(e.dir)
	// A plan that takes no store lock reads the stat cache while the
	// configuration loads, on a goroutine of its own (a command that
	// takes the store's lock reads it only once it holds it), when the
	// configuration is smaller than the cache: a few bytes an image (a
	// for_each), whose load keeps one core busy only. A larger one's
	// load keeps both busy, and its heap would then hold the cache too
	// when it is first collected, for a higher peak of memory.
	var ahead *readAhead
	// collect says that the plan collects garbage once its configuration
	// and lockfile have loaded (collectsOnceLoaded).
	collect := false
	if sel.storeOp == "" && e.statCacheOutweighsConfig() {
		ahead = e.readStatCacheAhead(stats)
		defer ahead.wait()
	} else if sel.storeOp == "" {
		if sz := sizesOf(e.dir); sz.loadAllocatesLittle() {
			// Its load leaves a core idle while it checks paths and joins
			// its results: the lockfile and the stat cache are read
			// meanwhile, and nothing is collected before both are done.
			// When the load fails what they read is thrown away unused:
			// the configuration's diagnostics come first, as before.
			ahead = e.readStatCacheAhead(nil)
			defer ahead.wait()
			ahead.readLockAhead(e, stats, !sel.noLockDigest, true)
			collect = sz.collectsOnceLoaded() && collectsNoGarbage(UserSetsGC(e.getenv))
		}
	}
	// Only a saved plan records the configuration's digest.
	cfg, diags := config.Load(e.dir, config.LoadOptions{Vars: sel.vars, VarFiles: sel.varFiles, Environ: e.stdio.Environ, Stats: stats, NoDigest: sel.noLockDigest})
	if _, ok := e.reportConfig(cfg, diags); !ok {
		// The images that did load name the files they are made from
		// (one missing, perhaps): watch watches them.
		return nil, &loaded{cfg: cfg}, errConfig
	}
	// Such a plan then reads the lockfile (and the stat cache, if it has
	// not) on a goroutine of its own while it opens the store. Not before
	// the configuration has loaded: what the load holds and what the
	// parsed lockfile holds would then be alive together, for a higher
	// peak of memory. Errors are taken in the serial order.
	if ahead == nil && sel.storeOp == "" {
		ahead = e.readStatCacheAhead(nil)
		defer ahead.wait()
	}
	if ahead != nil && !ahead.lockStarted {
		ahead.readLockAhead(e, stats, !sel.noLockDigest, false)
	}
	link, err := e.linkStore(sel.store, cfg, sel.storeOp, sel.storeWait)
	if err != nil {
		return nil, nil, err
	}
	if link != nil && sel.storeOp == "apply" {
		// The objects the plan finds in a file:// store are made durable
		// by a flush that runs while the apply plans and works; the
		// apply's store waits for it before it reports success.
		link.sync.Ahead = true
	}
	var (
		lock       *state.Lock
		lockDigest string
		statCache  *state.StatCache
	)
	if ahead != nil {
		ahead.wait()
		lock, lockDigest, err, statCache = ahead.lock, ahead.lockDigest, ahead.lockErr, ahead.statCache
		if collect && err == nil {
			// The pages the collection frees and the rest of the plan
			// does not take again are handed back to the system at
			// once, rather than held until the process ends.
			debug.FreeOSMemory()
		}
	} else {
		lock, lockDigest, err = e.loadLockShare(true, stats, !sel.noLockDigest, sel.storeOp == "", false)
	}
	if err != nil {
		return nil, nil, err
	}
	facts, err := e.factsCache(cfg, lock, sel.refresh == "full", stats, statCache)
	if err != nil {
		return nil, nil, err
	}
	// The files an interrupted apply left to delete: each is hashed, so
	// once for the plan and what apply finishes.
	left, leftBehind, err := e.leftovers(lock)
	if err != nil {
		return nil, nil, err
	}
	cache := state.OpenCache(e.dir)
	// The plan promises a restore without a request only of a cached
	// render whose bytes it hashed (only those it would restore), and
	// says why it requests one whose bytes changed.
	cached, damaged := cache.Intact, cache.Damaged
	if cache.Absent() {
		// Nothing to look up: the planner then works out no image's
		// cache key (a hash of its inputs). A cache with a directory is
		// listed only when the planner first looks something up: it
		// looks up only what it would render, and a plan that renders
		// nothing lists none.
		cached, damaged = nil, nil
	}
	plan, diags, err := e.planWithStore(planner.Input{
		Images:   cfg.Images,
		Lock:     lock,
		Facts:    facts,
		Cached:   cached,
		Provider: provider,
		Targets:  targets,
		Replace:  replace,
		NoCache:  sel.noCache,
		NewSeed:  func() int64 { return 1 + rand.Int64N(providers.MaxSeed) },
		CachedSHA256: func(digest, provider string) (string, bool) {
			info, ok := cache.Info(digest, provider)
			return info.SHA256, ok
		},
		CacheDamaged: damaged,
		Prices:       cfg.Provider.PriceMap(),
		Leftovers:    leftBehind,
	}, link, sel.storeLenient)
	if err != nil {
		return nil, nil, err
	}
	if diags.HasErrors() {
		views.WriteDiagnostics(e.stdio.Err, diags, cfg.Files, e.color(sel.noColor, e.stdio.ErrTerminal))
		e.failJSON(views.NewJSONFailure(errors.New("the plan could not be made; nothing was planned or changed"), diags))
		return nil, nil, errConfig
	}
	return plan, &loaded{cfg: cfg, lock: lock, lockDigest: lockDigest, leftovers: left, facts: facts, cache: cache}, nil
}

// errConfig means diagnostics were already printed.
var errConfig = run.ErrReported

func (e *env) plan(args []string) int {
	var sel selection
	fs := newFlagSet("plan", "plan [options]")
	sel.register(fs)
	out := fs.String("out", "", "save the plan to `FILE`, to apply exactly it with: pixform apply FILE")
	jsonOut := fs.Bool("json", false, "print the plan as one JSON object")
	format := fs.String("format", "", "output `FORMAT`: text (default), json or markdown")
	detailed := fs.Bool("detailed-exitcode", false, "exit 2 when there are changes, 0 when none, 1 on error")
	check := fs.Bool("check", false, "offline gate: exit 0 only when every declared image is on disk and matches the lockfile; no request, no token")
	requireApproval := fs.Bool("require-approval", false, "with -check: also fail while an image awaits a pick among its candidates or an approval (pixform approve)")
	if err := fs.Parse(args); err != nil {
		return e.flagExit(fs, err)
	}
	e.noColor = e.noColor || sel.noColor
	if *jsonOut {
		*format = "json"
	}
	if *format == "json" {
		e.jsonOut = jsonPlan
	}
	if fs.NArg() > 0 {
		return e.fail(fmt.Errorf("plan takes no arguments, got %q", fs.Args()))
	}
	switch *format {
	case "", "text", "json", "markdown":
	default:
		return e.fail(fmt.Errorf("-format=%s: use text, json or markdown", *format))
	}
	defer e.closeStore()
	if *requireApproval && !*check {
		return e.fail(views.WithHint(errors.New("-require-approval works with -check"), "pixform plan -check -require-approval"))
	}
	if *check {
		if err := checkOptions(*out, *format, *detailed); err != nil {
			return e.fail(err)
		}
		return e.check(&sel, *requireApproval)
	}
	outPath := e.abs(*out)
	if *out != "" {
		if err := outTarget(e.dir, outPath, *out, "plan -out="+*out, "", planOut); err != nil {
			return e.fail(err)
		}
	}
	sel.storeLenient = true
	sel.noLockDigest = *out == ""
	p, ld, err := e.makePlan(&sel)
	if err != nil {
		return e.fail(err)
	}
	if e.jsonOut == jsonPlan {
		// One document on stdout: a plan over budget is refused as a
		// failure, not printed first.
		if err := run.CheckCredits(p, sel.maxCredit); err != nil {
			return e.fail(err)
		}
	}
	save := func() error {
		if *out == "" {
			return nil
		}
		replace, _ := parseAddrs("-replace", sel.replace) // makePlan parsed them
		return planfile.Write(outPath, &planfile.File{
			PixformVersion: Version, ConfigDigest: ld.cfg.Digest, LockDigest: ld.lockDigest,
			Vars: sel.vars, VarFiles: sel.varFiles, Replace: replace, Plan: p,
		})
	}
	if e.jsonOut == jsonPlan {
		// One document on stdout: a plan file that cannot be written is
		// the failure, not printed after the plan.
		if err := save(); err != nil {
			return e.fail(err)
		}
		save = func() error { return nil }
	}
	switch *format {
	case "json":
		err = views.WritePlanJSON(e.stdio.Out, p)
	case "markdown":
		err = views.WritePlanMarkdown(e.stdio.Out, p)
	default:
		err = views.WritePlanWith(e.stdio.Out, p, views.PlanOptions{Color: e.color(sel.noColor, e.stdio.OutTerminal), Verbose: sel.verbose})
		views.WriteLeftovers(e.stdio.Out, ld.leftovers, e.color(sel.noColor, e.stdio.OutTerminal))
	}
	if err != nil {
		return e.fail(err)
	}
	if err := run.CheckCredits(p, sel.maxCredit); err != nil {
		return e.fail(err)
	}
	if *out != "" {
		if err := save(); err != nil {
			return e.fail(err)
		}
		if *format == "" || *format == "text" {
			fmt.Fprintf(e.stdio.Out, "\nSaved the plan to %s. Apply exactly it with: pixform apply %s\n", *out, *out)
		}
	}
	if *detailed && (p.HasChanges() || p.HasUploads()) {
		return ExitChanges
	}
	return ExitOK
}

// checkOptions refuses the options of plan that plan -check cannot honour
// (a plan file, a markdown plan, exit code 2), rather than ignore them.
func checkOptions(out, format string, detailed bool) error {
	switch {
	case out != "":
		return views.WithHint(fmt.Errorf("-check writes no plan file (-out=%s): it only checks that the images on disk match the lockfile and the configuration", out),
			"leave out -out; to save a plan to apply, run pixform plan -out="+out+" without -check")
	case format == "markdown":
		return views.WithHint(errors.New("-check -format=markdown: plan -check reports as text, or as JSON with -json"),
			"leave out -format=markdown; for a markdown summary of the changes (a pull-request comment), run pixform plan -format=markdown without -check")
	case detailed:
		return views.WithHint(errors.New("-check -detailed-exitcode: plan -check exits 0 when every image is up to date and 1 when not, never 2"),
			"leave out -detailed-exitcode; or, for exit code 2 when there are changes, run pixform plan -detailed-exitcode without -check")
	}
	return nil
}

// checkHints says how to pass the check c of plan p, from the kinds of
// change that fail it: a recorded image that the image store lacks
// (Change.StoreLacks, a take's too) or whose upload is due is
// pushed from a clone that has it, which keeps it and its review, where
// an apply would render it anew; a change that sends a request needs an
// apply with the token, by the provider the gate was checked for (a
// draft apply fails the default gate again); any other change an apply
// that needs no token.
func checkHints(p *planner.Plan, c *views.Check) []string {
	var push, requests, draft, restores, other bool
	for _, ci := range c.Bad {
		ch := ci.Change
		switch {
		case ci.Push || ch.StoreLacks:
			push = true
		case p.Provider == providers.Draft && (ch.Action == planner.Create || ch.Action == planner.Replace) && !ch.FromStore && !ch.FromCache:
			requests = true
		case ch.Requests > 0:
			requests = true
			if pr := ch.Prior; pr != nil && pr.Provider == providers.Draft && ch.Action == planner.Replace {
				draft = true
			}
		case ch.FromStore:
			restores = true
		default:
			other = true
		}
	}
	var hints []string
	if push {
		hints = append(hints, "run `pixform push` in a clone that has the images the image store lacks, then run plan -check again")
	}
	// A draft gate's apply is a draft apply: the default one would render
	// every draft image anew, paid.
	apply := "pixform apply"
	if p.Provider == providers.Draft {
		apply = "pixform apply -provider=draft"
	}
	switch {
	case requests && p.Provider == providers.Draft:
		hints = append(hints, "run `"+apply+"` and commit the lockfile and images")
	case requests:
		hints = append(hints, "run `pixform apply` (it needs IMAGINE_API_TOKEN) and commit the lockfile and images")
		if draft {
			hints = append(hints, "a project that commits draft renders on purpose checks them with pixform plan -check -provider=draft")
		}
	case restores:
		hints = append(hints, "run `"+apply+"` (it restores from the image store: no request, no token) and commit the lockfile and images")
	case other:
		hints = append(hints, "run `"+apply+"` (it sends no request, and needs no token) and commit the lockfile and images")
	}
	return hints
}

// check is plan -check: the offline gate for CI. It plans as -provider
// (or PIXFORM_PROVIDER) says, imagine by default, so by default an image
// the draft renderer made counts as not done; and any drift counts, even
// the drift that a draft plan leaves for an imagine run. With review
// (-require-approval), once every image is up to date, it fails too
// while a declared image awaits a pick among its takes or an approval,
// naming each. With -json its result is one document: the plan, what the
// check found and, when it fails, why.
func (e *env) check(sel *selection, review bool) int {
	p, _, err := e.makePlan(sel)
	if err != nil {
		return e.fail(err)
	}
	c := &views.Check{Review: review}
	for i := range p.Changes {
		ch := &p.Changes[i]
		switch {
		case storeHolds(ch):
			// A clone without outputs: the store holds the recorded
			// image, which pull or apply brings without a request.
			c.InStore++
		case ch.Upload:
			c.Bad = append(c.Bad, views.CheckImage{Change: ch, Push: true})
		case ch.Action != planner.NoOp, len(ch.Reasons) > 0:
			c.Bad = append(c.Bad, views.CheckImage{Change: ch})
		}
	}
	var fail error
	switch {
	case len(c.Bad) > 0:
		fail = views.WithHint(errors.New("images are out of date with the configuration or the lockfile"), checkHints(p, c)...)
	case review:
		for _, a := range planner.AwaitingReview(p) {
			if !a.Pending { // a pending change fails the check above; a put-back is judged by its entry
				c.Awaiting = append(c.Awaiting, a)
			}
		}
		if len(c.Awaiting) > 0 {
			fail = views.WithHint(errors.New("images await a pick or an approval"),
				"look at them (pixform gallery, or watch -serve), then pixform pick ADDR N and pixform approve ADDR…, and commit the lockfile")
		}
	}
	if e.jsonOut == jsonPlan {
		var jf *views.JSONFailure
		if fail != nil {
			f := views.NewJSONFailure(fail, nil)
			jf = &f
		}
		err := views.WriteCheckJSON(e.stdio.Out, p, c, jf)
		// The document is written: what follows is said on stderr only.
		e.jsonOut = noJSON
		if err != nil {
			return e.fail(err)
		}
	} else {
		views.WriteCheck(e.stdio.Out, p, c)
	}
	if fail != nil {
		return e.fail(fail)
	}
	return ExitOK
}

func (e *env) validate(args []string) int {
	fs := newFlagSet("validate", "validate [options]")
	var vars, varFiles listFlag
	fs.Var(&vars, "var", "set a variable: `NAME=VALUE` (repeatable)")
	fs.Var(&varFiles, "var-file", "load variable values from `FILE` (repeatable)")
	noColor := fs.Bool("no-color", false, "disable colour")
	jsonOut := fs.Bool("json", false, "print the result as one JSON object: valid, counts, and each diagnostic with its file, line and column")
	if err := fs.Parse(args); err != nil {
		return e.flagExit(fs, err)
	}
	e.noColor = e.noColor || *noColor
	if *jsonOut {
		e.jsonOut = jsonValidate
	}
	if fs.NArg() > 0 {
		return e.fail(fmt.Errorf("validate takes no arguments, got %q", fs.Args()))
	}
	cfg, diags := config.Load(e.dir, config.LoadOptions{Vars: vars, VarFiles: varFiles, Environ: e.stdio.Environ})
	// The store block's URL is checked as plan parses it, offline: no
	// store is opened.
	if cfg != nil && cfg.Store != nil {
		if err := objstore.CheckURL(cfg.Store.URL); err != nil {
			diags = diags.Append(views.StoreURLDiagnostic(cfg.Store.URLRange, err))
		}
	}
	if *jsonOut {
		images := 0
		if cfg != nil && !diags.HasErrors() {
			images = len(cfg.Images)
		} else if !diags.HasErrors() {
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "The configuration did not load"})
		}
		views.WriteValidationJSON(e.stdio.Out, diags, images)
		if diags.HasErrors() {
			return ExitError
		}
		return ExitOK
	}
	cfg, ok := e.reportConfig(cfg, diags)
	if !ok {
		return ExitError
	}
	views.WriteValid(e.stdio.Out, len(cfg.Images), e.color(false, e.stdio.OutTerminal))
	return ExitOK
}

// storeHolds reports whether c only puts back a recorded image that is
// missing on disk and that the image store holds (its inputs unchanged,
// and no record of the store's naming other bytes for them): what plan
// -check accepts on a clone without outputs.
func storeHolds(c *planner.Change) bool {
	return c.PutBack && c.FromStore && c.Missing
}
