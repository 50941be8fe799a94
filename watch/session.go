package watch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/executor"
	"github.com/pixform/pixform/gallery"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/run"
	"github.com/pixform/pixform/state"
	"github.com/pixform/pixform/storesync"
	"github.com/pixform/pixform/views"
)

// Planned is one plan of the working directory and what it was made from.
type Planned struct {
	Plan   *planner.Plan
	Config *config.Config
	Lock   *state.Lock
	// Cache is the content cache the plan looked renders up in, which
	// its apply restores from and keeps renders in (superseded ones
	// too), so that the cache is listed once a cycle (run.Options.Cache);
	// nil: apply opens the working directory's.
	Cache *state.Cache
}

// Session is one `pixform watch`: it plans and applies, then waits for the
// next change, until Stop is closed or the context is cancelled. The
// command line fills it in; every field but Gallery is required.
type Session struct {
	Dir      string
	Watcher  *Watcher
	Gallery  *gallery.Server // nil without -serve
	Out, Err io.Writer
	// ErrColor and ErrTerminal say whether Err is coloured, and a
	// terminal (for the live progress line).
	ErrColor, ErrTerminal bool
	// Stop is closed on the first interrupt.
	Stop <-chan struct{}
	Now  func() time.Time
	// Parallelism is -parallelism (zero: the provider block's), MaxCredits
	// -max-credits (negative: no limit), which bounds each change and the
	// whole session.
	Parallelism int
	MaxCredits  int
	// AutoApprove is -auto-approve: apply every change without asking.
	// Without it, a change rendered by a provider that spends credits is
	// applied only after Ask returns "yes": the first change, and every
	// change that deletes files. Ask prints the question and returns the
	// answer line; nil when there is no terminal to ask on, and then such
	// a change is not applied.
	AutoApprove bool
	Ask         func(question string) string
	// Debounce is -debounce, which the Watcher was made with; zero when
	// not given: then the session sets the Watcher's after each plan,
	// DefaultDebounce for drafts and DefaultPaidDebounce for the Imagine
	// API.
	Debounce time.Duration

	// writer is held from each plan to the end of its apply, and by
	// Exclusive: the session is the one writer of the lockfile, and a
	// gallery action never lands between a plan and its apply.
	writer sync.Mutex

	approved bool // the first paying change was approved
	spent    int  // credits the session's runs spent, or may have (cancelled requests)
	sent     int  // requests the session's runs sent, cancelled ones too
	unpriced int  // of sent, those whose price is not known
	// cancelled counts the requests a save superseded once sent.
	cancelled int
	// Plan plans the working directory as it is now. It prints
	// configuration diagnostics itself, to Held when that is set, and
	// then returns run.ErrReported. With an error it may return a
	// Planned whose Config alone is set: the configuration as far as it
	// loaded (see config.Load), whose images name the files they are
	// made from, one of them missing perhaps, for the Watcher to watch.
	Plan func() (*Planned, error)
	// inputs are the files the last plan made named as sources or masks.
	inputs []string
	// Held, when not nil, is the writer Plan prints to: what it prints
	// while the session plans an Early event is printed only if the
	// session applies that plan (one handed back is made again after the
	// debounce, diagnostics and all).
	Held *Held
	// slowSaid: the reason saves wait the full debounce was printed.
	slowSaid bool
	// Reload loads the configuration as it is now, or returns nil when it
	// has errors; it prints nothing.
	Reload func() *config.Config
	// NewProvider returns the renderer for a plan.
	NewProvider func(*planner.Plan, *config.Config) (executor.Provider, error)
	// Sync, when not nil, is the image store each apply uploads to and
	// restores from (see run.Options.Sync).
	Sync *storesync.Sync
}

func (s *Session) stamp() string { return s.Now().Format("15:04:05") }

// Say prints a line to Out stamped as the session's own lines are, for
// what is done to the working directory beside the session (a pick or an
// approval from the gallery); the caller holds the session (Exclusive),
// so that nothing else prints at the same time.
func (s *Session) Say(format string, args ...any) {
	fmt.Fprintf(s.Out, "[%s] %s\n", s.stamp(), fmt.Sprintf(format, args...))
}

func (s *Session) writeError(err error) { views.WriteError(s.Err, err, s.ErrColor) }

// stopping reports whether the session must end.
func (s *Session) stopping(ctx context.Context) bool {
	select {
	case <-s.Stop:
		return true
	case <-ctx.Done():
		return true
	default:
		return false
	}
}

// Run plans and applies, then waits for the next change, until Stop is
// closed or ctx is cancelled.
func (s *Session) Run(ctx context.Context) {
	trigger, quiet := "start", false
	var ev *Event
	for {
		next, stopped := s.cycle(ctx, trigger, quiet, ev)
		if stopped || s.stopping(ctx) {
			return
		}
		if next == nil {
			select {
			case ev, ok := <-s.Watcher.Events():
				if !ok {
					return
				}
				next = &ev
			case <-s.Stop:
				return
			case <-ctx.Done():
				return
			}
		}
		if next.Err != nil {
			fmt.Fprintf(s.Err, "pixform: warning: %v\n", next.Err)
		}
		trigger = describe(*next)
		// Output removals that pixform's own moves and deletes cause end
		// in an empty plan: say nothing about those.
		quiet = len(next.Config) == 0 && next.Err == nil
		ev = next
	}
}

// setDebounce sets the Watcher's debounce for the saves after plan p
// (DebounceFor its provider).
func (s *Session) setDebounce(p *planner.Plan) {
	s.Watcher.SetDebounce(DebounceFor(p.Provider, s.Debounce))
}

// DebounceFor is the debounce of the saves a provider renders: set
// (-debounce) when given, else one suited to the provider:
// DefaultDebounce for drafts, DefaultPaidDebounce for the Imagine API,
// every save of which is paid requests.
func DebounceFor(provider string, set time.Duration) time.Duration {
	switch {
	case set > 0:
		return set
	case provider == providers.Draft:
		return DefaultDebounce
	}
	return DefaultPaidDebounce
}

// describe names what triggered a run: "change detected (main.pix.hcl)".
func describe(ev Event) string {
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

// Harmless reports whether p, planned from a save taken before the full
// debounce (an Early event), may be applied although the save may be
// only partly written: the next plan, of the whole save, must be able to
// make everything again as it was, at no cost. So p renders drafts (free,
// and the same bytes again for the same inputs: with the Imagine API a
// render of a partial state would be paid for, and its renders take
// seconds, beside which the debounce is nothing), and it deletes no
// image and moves none (a deleted image's recorded seed, when the
// configuration leaves it out, would be drawn anew), nor replaces one
// whose entry records a review (takes, a pick, an approval) or a render
// by another provider, which a draft cannot make again.
func Harmless(p *planner.Plan) bool {
	if p.Provider != providers.Draft {
		return false
	}
	for i := range p.Changes {
		c := &p.Changes[i]
		switch c.Action {
		case planner.Delete, planner.Move:
			return false
		case planner.Replace:
			if e := c.Prior; e != nil && (e.Provider != providers.Draft || len(e.Takes) > 0 || e.Picked > 0 || e.Approved != nil) {
				return false
			}
		}
	}
	return true
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
		s += fmt.Sprintf(" (%s", views.Plural(sm.Requests, "request"))
		switch cost := views.Cost(sm.Requests, sm.Credits, sm.UnpricedRequests); {
		case p.Provider != providers.Imagine:
		case cost == "unpriced":
			s += " unpriced"
		default:
			s += ", " + cost
		}
		s += ")"
	}
	return s
}

// cycle plans and, when there are changes, applies. It returns the change
// that arrived during the apply (to run again at once), and stopped when
// watch must end.
// Exclusive runs f, a write of the lockfile such as a pick or an approval
// from the gallery, unless the session is planning or applying, when it
// returns gallery.ErrBusy instead. Once f has written, the session plans
// again, as after a save: what is made from the image f changed is stale.
func (s *Session) Exclusive(f func() error) error {
	if !s.writer.TryLock() {
		return gallery.ErrBusy
	}
	defer s.writer.Unlock()
	if err := f(); err != nil {
		return err
	}
	s.Watcher.Again(Event{Config: []string{state.LockFileName}})
	return nil
}

func (s *Session) cycle(ctx context.Context, trigger string, quiet bool, ev *Event) (next *Event, stopped bool) {
	s.writer.Lock()
	defer s.writer.Unlock()
	start := s.Now()
	early := ev != nil && ev.Early
	if early && s.Held != nil {
		s.Held.hold()
	}
	pl, err := s.Plan()
	if early {
		// The save was taken once its files had settled, before the full
		// debounce: it may be the first part of a save (a file written in
		// pieces, one of several files saved together, a checkout). Its
		// plan is applied only when the rest of the save can undo it at
		// no cost; else the save waits the full debounce and is planned
		// again, as every save did before.
		use := err == nil && Harmless(pl.Plan)
		if s.Held != nil {
			s.Held.release(use)
		}
		if !use {
			if err == nil && pl.Plan.Provider != providers.Draft {
				s.Watcher.SetFast(false)
				s.setDebounce(pl.Plan)
			}
			s.Watcher.Again(*ev)
			return nil, false
		}
	}
	if err != nil {
		if pl != nil && pl.Config != nil {
			// A plan that failed, for want of a source or mask file
			// perhaps: the files its images name are watched beside
			// those of the last plan made, so that one created now is
			// planned without another save.
			s.setInputs(append(slices.Clone(s.inputs), pl.Config.InputFiles()...))
		}
		if err != run.ErrReported {
			s.writeError(err)
		}
		fmt.Fprintf(s.Out, "[%s] %s: not applied; fix it and save to carry on.\n", s.stamp(), trigger)
		if s.Gallery != nil {
			s.Gallery.SetStatus("The last save could not be planned: "+firstLine(err)+". Fix it and save to carry on; the terminal shows the details.", true)
		}
		return nil, false
	}
	p := pl.Plan
	s.Watcher.SetFast(p.Provider == providers.Draft)
	s.setDebounce(p)
	if p.Provider == providers.Draft && !s.slowSaid {
		s.slowSaid = true
		if err := s.Watcher.Slow(); err != nil {
			fmt.Fprintf(s.Err, "pixform: warning: %v\n", err)
		}
	}
	if pl.Config != nil {
		s.inputs = pl.Config.InputFiles()
		s.setInputs(s.inputs)
	}
	paths := make([]string, 0, len(p.Changes))
	for _, c := range p.Changes {
		if c.Action != planner.Delete {
			paths = append(paths, c.Path)
		}
	}
	if err := s.Watcher.SetOutputs(paths); err != nil {
		fmt.Fprintf(s.Err, "pixform: warning: %v; a hand-deleted image may go unnoticed until the next save\n", err)
	}
	if s.Gallery != nil {
		s.Gallery.SetStatus("", false)
		s.Gallery.Set(gallery.FromPlan(p))
	}
	if !p.HasChanges() {
		if !quiet {
			fmt.Fprintf(s.Out, "[%s] %s: no changes; %s up to date.\n", s.stamp(), trigger, views.Plural(p.Summary.NoOp, "image"))
		}
		return nil, false
	}
	if err := run.CheckCredits(p, s.MaxCredits); err != nil {
		s.writeError(err)
		fmt.Fprintf(s.Out, "[%s] %s: %s: not applied.\n", s.stamp(), trigger, summary(p))
		return nil, false
	}
	if s.MaxCredits >= 0 && s.spent+p.Summary.Credits > s.MaxCredits {
		spent := fmt.Sprint(s.spent)
		if s.cancelled > 0 {
			spent += fmt.Sprintf(" (counting %s it cancelled, which the vendor may bill)", views.Plural(s.cancelled, "request"))
		}
		s.writeError(views.WithHint(
			fmt.Errorf("this change would spend %s, and this session has spent %s: more than -max-credits=%d", views.Plural(p.Summary.Credits, "credit"), spent, s.MaxCredits),
			"-max-credits bounds the whole session: restart watch to start counting again, or raise it"))
		fmt.Fprintf(s.Out, "[%s] %s: %s: not applied.\n", s.stamp(), trigger, summary(p))
		return nil, false
	}
	provider, err := s.NewProvider(p, pl.Config)
	if err != nil {
		s.writeError(err)
		fmt.Fprintf(s.Out, "[%s] %s: %s: not applied.\n", s.stamp(), trigger, summary(p))
		return nil, false
	}
	if !s.approve(p, trigger) {
		fmt.Fprintf(s.Out, "[%s] %s: not applied (not approved); save again to plan again.\n", s.stamp(), trigger)
		return nil, s.stopping(ctx)
	}
	fmt.Fprintf(s.Out, "[%s] %s: %s …\n", s.stamp(), trigger, summary(p))
	return s.apply(ctx, pl, provider, start)
}

// setInputs has the Watcher watch the source and mask files inputs.
func (s *Session) setInputs(inputs []string) {
	if err := s.Watcher.SetInputs(inputs); err != nil {
		fmt.Fprintf(s.Err, "pixform: warning: %v; a saved source or mask file may go unnoticed: save the configuration to plan again\n", err)
	}
}

// approve reports whether p may be applied: always with -auto-approve or
// a provider that spends nothing; otherwise once the user approved the
// first change, except that a change that deletes files is asked about
// again.
func (s *Session) approve(p *planner.Plan, trigger string) bool {
	if s.AutoApprove || p.Provider != providers.Imagine {
		return true
	}
	var deleted []string
	for _, c := range p.Changes {
		if c.Action == planner.Delete {
			deleted = append(deleted, c.Path)
		}
	}
	if s.approved && len(deleted) == 0 {
		return true
	}
	if s.Ask == nil {
		s.writeError(views.WithHint(errors.New("this change needs approval, and there is no terminal to ask on"),
			"restart watch with -auto-approve to apply changes without asking"))
		return false
	}
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] %s: %s\n", s.stamp(), trigger, summary(p))
	if p.Summary.Requests > 0 {
		cost := views.Plural(p.Summary.Credits, "credit")
		switch u := p.Summary.UnpricedRequests; {
		case u == p.Summary.Requests:
			cost = views.Plural(u, "unpriced request")
		case u > 0:
			cost += " and " + views.Plural(u, "unpriced request")
		}
		fmt.Fprintf(&b, "This change renders %s with the Imagine API for %s, and deletes ", views.Plural(p.Summary.Requests, "image"), cost)
	} else {
		b.WriteString("This change sends no request, and deletes ")
	}
	if len(deleted) == 0 {
		b.WriteString("no file.\n")
	} else {
		fmt.Fprintf(&b, "%s: %s.\n", views.Plural(len(deleted), "file"), list(deleted))
	}
	if p.Summary.UnpricedRequests > 0 {
		// The plan's words for what its credits leave out.
		fmt.Fprintf(&b, "Its cost by endpoint: %s.\n", views.CostBreakdown(p))
	}
	if !s.approved {
		b.WriteString("Once approved, later changes are applied without asking, except those that delete files.\n")
	}
	b.WriteString("Do you want to apply it? Only 'yes' will be accepted: ")
	if strings.TrimSpace(s.Ask(b.String())) != "yes" {
		fmt.Fprintln(s.Out)
		return false
	}
	fmt.Fprintln(s.Out)
	s.approved = true
	return true
}

func firstLine(err error) string {
	if err == run.ErrReported {
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
// in-flight request obsolete cancels that request (its result is not
// placed, so nothing is recorded under inputs it was not made from; one
// that arrived whole is kept in the content cache under its own), and
// any save stops the run from starting more, so that the next plan takes
// over. The first Ctrl-C (or SIGHUP) stops the run too, and lets the
// requests in flight finish and be recorded, as apply does: they are paid
// for, and take seconds. Each is bounded by the provider's request
// timeout; a second Ctrl-C cancels ctx, and them with it.
func (s *Session) apply(ctx context.Context, pl *Planned, provider executor.Provider, start time.Time) (next *Event, stopped bool) {
	p := pl.Plan
	cache := pl.Cache
	if cache == nil {
		cache = state.OpenCache(s.Dir)
	}
	defer cache.Close()
	wp := NewSuperseding(provider)
	if p.Provider != providers.Draft {
		// A paid render that arrives as a save supersedes it is kept
		// (drafts are cheaper to render again than to keep).
		wp.Keep = cache
	}
	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	runStop := make(chan struct{})
	var stopOnce sync.Once
	stopRun := func() { stopOnce.Do(func() { close(runStop) }) }

	total := run.Pending(p)
	var progress views.Progress
	if s.ErrTerminal {
		progress = views.NewLiveProgress(s.Err, total, s.ErrColor, s.Now)
	} else {
		progress = views.NewLineProgress(s.Err, total, s.Now)
	}
	hooks := &watchHooks{progress: progress}
	if s.Gallery != nil {
		hooks.gallery = s.Gallery.Hooks()
	}
	// A request the plan did not count (a failed restore from the
	// content cache) is sent only within what -max-credits leaves.
	maxCredits := -1
	if s.MaxCredits >= 0 {
		maxCredits = s.MaxCredits - s.spent
	}
	// Warnings of no one change (a noted file kept at a path the plan
	// does not touch), said once the progress is done with the terminal.
	var warnings run.Warnings
	done := make(chan applyResult, 1)
	go func() {
		res, err := run.Apply(runCtx, p, run.Options{
			Warn:        warnings.Warn,
			Dir:         s.Dir,
			Config:      pl.Config,
			Lock:        pl.Lock,
			Cache:       cache,
			Provider:    wp,
			Hooks:       hooks,
			Parallelism: s.Parallelism,
			Stop:        runStop,
			Sync:        s.Sync,
			MaxCredits:  maxCredits,
		})
		done <- applyResult{res, err}
	}()

	events := s.Watcher.Events()
	interrupt := s.Stop
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
			if cfg := s.Reload(); cfg != nil {
				wp.Supersede(ObsoleteAfter(cfg, p))
				stopRun()
			}
			// A broken save leaves the run alone; the plan after it shows
			// the diagnostics.
		case <-interrupt:
			interrupt = nil
			stopped = true
			stopRun()
		}
	}
	progress.Close()
	// The directories the run made are watched from now on: a file
	// deleted by hand in one is rendered again without waiting for a save.
	if err := s.Watcher.Rewatch(); err != nil {
		fmt.Fprintf(s.Err, "pixform: warning: %v; a hand-deleted image may go unnoticed until the next save\n", err)
	}
	for _, msg := range warnings.List() {
		fmt.Fprintf(s.Err, "pixform: warning: %s\n", msg)
	}
	res, err := r.res, r.err
	// A request a save superseded counts as sent and its credits as
	// spent, cancelled or not: the vendor does not say a cancelled
	// generation is free, and -max-credits is a bound.
	s.spent += res.Credits
	s.sent += res.Requests
	s.unpriced += res.Unpriced
	s.cancelled += wp.Sent()
	line := fmt.Sprintf("[%s] done in %.2fs: %s", s.stamp(), s.Now().Sub(start).Seconds(), resultLine(res, wp.Count()))
	switch {
	case stopped:
		line = fmt.Sprintf("[%s] interrupted after %.2fs: %s", s.stamp(), s.Now().Sub(start).Seconds(), resultLine(res, wp.Count()))
	case next != nil && res.Skipped+wp.Count() > 0:
		line = fmt.Sprintf("[%s] stopped for a newer save after %.2fs: %s", s.stamp(), s.Now().Sub(start).Seconds(), resultLine(res, wp.Count()))
	}
	fmt.Fprintln(s.Out, line)
	// Say what went wrong, unless the run only stopped because watch asked
	// it to (Ctrl-C, a newer save) or its only failures were superseded
	// renders.
	realFailures := res.Failed - wp.Count()
	switch {
	case err == nil || stopped:
	case res.Stopped == nil && realFailures == 0:
	case errors.Is(res.Stopped, executor.ErrInterrupted) && realFailures == 0:
	default:
		s.writeError(err)
	}
	return next, stopped || s.stopping(ctx)
}

// merge adds ev to the pending event.
func merge(pending *Event, ev Event) *Event {
	if pending == nil {
		return &ev
	}
	pending.Config = appendNew(pending.Config, ev.Config)
	pending.Outputs = appendNew(pending.Outputs, ev.Outputs)
	if pending.Err == nil {
		pending.Err = ev.Err
	}
	pending.Early = pending.Early || ev.Early
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
	add(r.Restored-r.RestoredFromStore, "restored from cache")
	add(r.RestoredFromStore, "restored from store")
	add(r.Moved, "moved")
	add(r.Deleted, "deleted")
	add(r.Kept, "left the lockfile with its file kept")
	add(superseded, "superseded")
	add(r.Failed-superseded, "failed")
	add(r.NotStarted(), "not started")
	add(r.Abandoned, "abandoned in flight")
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
	if errors.Is(err, ErrSuperseded) {
		// Its own words: cancelled, or arrived and kept, or never sent.
		msg := "superseded by a newer save"
		if pe := (*executor.Error)(nil); errors.As(err, &pe) && pe.Msg != "" {
			msg = pe.Msg
		}
		h.progress.Warn(c, msg)
		return // the next plan sets the gallery's card
	}
	h.each(func(x executor.Hooks) { x.Failed(c, err) })
}

func (h *watchHooks) Warn(c *planner.Change, msg string) {
	h.each(func(x executor.Hooks) { x.Warn(c, msg) })
}

// Spent returns the requests the session's runs sent and the credits they
// spent, counting those a save superseded in flight (cancelled, of them)
// as sent and spent: the vendor may bill them. unpriced are the requests
// whose price is not known, which credits leaves out.
func (s *Session) Spent() (requests, credits, cancelled, unpriced int) {
	return s.sent, s.spent, s.cancelled, s.unpriced
}
