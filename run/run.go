// Package run carries out a plan with the state Store (outputs and
// lockfile) and the content cache: the one apply path that `pixform
// apply` and `pixform watch` share. Callers choose the provider and the hooks; run owns how a
// plan's results reach the lockfile.
package run

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/executor"
	"github.com/pixform/pixform/internal/safepath"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/state"
	"github.com/pixform/pixform/storesync"
	"github.com/pixform/pixform/views"
)

// ErrReported means the configuration's diagnostics were printed already:
// a caller says nothing more about it.
var ErrReported = errors.New("configuration errors")

// Options configure Apply.
type Options struct {
	// Dir is the working directory.
	Dir string
	// Config and Lock are what the plan was made from.
	Config *config.Config
	Lock   *state.Lock
	// Cache is the content cache the plan was made with, which Apply
	// restores from and keeps renders in, so that the cache is listed
	// once a run; nil opens the working directory's.
	Cache *state.Cache
	// Provider renders; Hooks sees every change's progress.
	Provider executor.Provider
	Hooks    executor.Hooks
	// Warn, when not nil, receives the warnings that no change of the
	// plan carries (a file an interrupted apply noted for deletion, at a
	// path the plan does not touch, kept because it changed since). It
	// is called while Apply runs, before or after every change.
	Warn func(msg string)
	// Parallelism bounds the requests in flight; zero means the provider
	// block's.
	Parallelism int
	// Stop, when closed, starts nothing new (see executor.Options.Stop).
	Stop <-chan struct{}
	// Sync, when not nil, is the image store: every image recorded is
	// uploaded to it, and Apply does not succeed until all are (a
	// *storesync.PendingError says how many are not); the changes
	// planned FromStore are restored from it.
	Sync *storesync.Sync
	// MaxCredits is -max-credits, negative for none: a request p did not
	// count (an image p restores from the content cache whose cached
	// copy is gone or damaged by then) is sent only while it and the
	// others like it keep the run within it, and only a priced one.
	// Zero is a bound of zero credits: a caller with none passes -1.
	MaxCredits int
	// SavedPlan says p was read from a plan file: the approval of
	// exactly what it counts, so no request it did not count is sent.
	SavedPlan bool
	// NoToken says that IMAGINE_API_TOKEN is not set: no request p did
	// not count can be sent.
	NoToken bool
}

// Apply carries out p and records every change that finished in the
// lockfile, which it writes before it returns.
func Apply(ctx context.Context, p *planner.Plan, o Options) (*executor.Result, error) {
	if c, ok := o.Provider.(interface{ CloseIdleConnections() }); ok {
		// A watch makes a provider per apply: its connections are not
		// left open until the transport's idle timeout.
		defer c.CloseIdleConnections()
	}
	parallelism := o.Parallelism
	if parallelism == 0 {
		parallelism = o.Config.Provider.Parallelism
	}
	cache := o.Cache
	if cache == nil {
		cache = state.OpenCache(o.Dir)
	}
	local := state.OpenStore(o.Dir, o.Lock, cache)
	local.Warn = pathWarner(p, o.Hooks, o.Warn)
	var store state.Store = local
	var restore executor.Cache = cache
	if o.Sync != nil {
		store = o.Sync.Wrap(ctx, local, p)
		restore = o.Sync.Cache(ctx, cache, p)
	}
	res, err := executor.Apply(ctx, p, executor.Options{
		Dir:         o.Dir,
		Provider:    o.Provider,
		Store:       store,
		Cache:       restore,
		Hooks:       o.Hooks,
		Parallelism: parallelism,
		MaxRetries:  o.Config.Provider.MaxRetries,
		Stop:        o.Stop,
		Unplanned:   unplanned(p, o),
		Recheck:     o.SavedPlan,
	})
	if cerr := store.Close(ctx); cerr != nil && err == nil {
		err = cerr // a *state.RecordError or *storesync.PendingError, which views words the advice for
	}
	return res, err
}

// Warnings collects the warnings that no change carries (Options.Warn)
// while an apply runs, to be said once its progress is done with the
// terminal. The zero value is ready; it is safe for concurrent use.
type Warnings struct {
	mu   sync.Mutex
	msgs []string
}

// Warn is Options.Warn: it adds msg.
func (w *Warnings) Warn(msg string) {
	w.mu.Lock()
	w.msgs = append(w.msgs, msg)
	w.mu.Unlock()
}

// List returns the warnings so far, in order.
func (w *Warnings) List() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.msgs)
}

// pathWarner is state.LocalStore.Warn for an apply of p: a warning about
// the file at a path goes to hooks as the warning of the change of p that
// leaves that path, or else of the one that writes it; one about a path
// that no change of p concerns, to warn (dropped when nil).
func pathWarner(p *planner.Plan, hooks executor.Hooks, warn func(string)) func(path, msg string) {
	return func(path, msg string) {
		k := safepath.Key(path)
		var writes *planner.Change
		for i := range p.Changes {
			c := &p.Changes[i]
			if c.Prior != nil && safepath.Key(c.Prior.Path) == k {
				writes = c
				break
			}
			if writes == nil && safepath.Key(c.Path) == k {
				writes = c
			}
		}
		switch {
		case writes != nil && hooks != nil:
			hooks.Warn(writes, msg)
		case warn != nil:
			warn(msg)
		}
	}
}

// unplanned is executor.Options.Unplanned for an apply of p: what
// refuses a request p did not count, and why; nil when nothing does.
func unplanned(p *planner.Plan, o Options) func(credits int, known bool, allowed int) string {
	switch {
	case o.SavedPlan:
		return func(int, bool, int) string { return "a saved plan is applied as it was made" }
	case o.NoToken:
		return func(int, bool, int) string { return "IMAGINE_API_TOKEN is not set" }
	case o.MaxCredits < 0:
		return nil
	}
	return func(credits int, known bool, allowed int) string {
		if !known {
			return fmt.Sprintf("its price is unknown, and -max-credits=%d cannot bound it", o.MaxCredits)
		}
		if total := p.Summary.Credits + allowed + credits; total > o.MaxCredits {
			return fmt.Sprintf("its %s would bring this apply to %d credits, more than -max-credits=%d", views.Plural(credits, "credit"), total, o.MaxCredits)
		}
		return ""
	}
}

// Pending counts the changes of p that do something.
func Pending(p *planner.Plan) int {
	n := 0
	for _, c := range p.Changes {
		if c.Action != planner.NoOp {
			n++
		}
	}
	return n
}

// CheckCredits enforces -max-credits=max on p; a negative max is no limit.
// A plan with requests nobody priced is refused too: what they spend
// cannot be proven within any bound.
func CheckCredits(p *planner.Plan, max int) error {
	if max < 0 {
		return nil
	}
	if p.Summary.Credits > max {
		return views.WithHint(
			fmt.Errorf("the plan would spend %s, more than -max-credits=%d", views.Plural(p.Summary.Credits, "credit"), max),
			"narrow it with -target=ADDR, or raise -max-credits")
	}
	if p.Summary.UnpricedRequests > 0 {
		return unpriced(p, max)
	}
	return nil
}

// unpriced is CheckCredits's error for a plan with unpriced requests: it
// names their images, and says what to do for each kind (a price in the
// provider block for the endpoints that take one; a priced style for a
// style with no price, which none can be given).
func unpriced(p *planner.Plan, max int) error {
	const shown = 5
	var addrs []string
	var ops, styles []string
	for i := range p.Changes {
		c := &p.Changes[i]
		if c.Requests == 0 || c.CreditsKnown {
			continue
		}
		addrs = append(addrs, c.Addr.String())
		if ep := planner.Endpoint(c.Inputs); ep != planner.EndpointTextToImage {
			ops = appendNew(ops, ep)
		} else {
			styles = appendNew(styles, c.Inputs.Style)
		}
	}
	named := strings.Join(addrs[:min(len(addrs), shown)], ", ")
	if len(addrs) > shown {
		named += fmt.Sprintf(" and %d more", len(addrs)-shown)
	}
	var hints []string
	if len(ops) > 0 {
		slices.Sort(ops)
		hints = append(hints, fmt.Sprintf("the vendor publishes no price for %s: set the credits of one request in the provider block, prices = { %s = N }",
			strings.Join(ops, ", "), strings.Join(ops, " = N, ")))
	}
	if len(styles) > 0 {
		hints = append(hints, fmt.Sprintf("%s has no published price, and none can be set: give those images a priced style (imagine-turbo costs 1 credit a request, flux-dev 15)",
			strings.Join(styles, ", ")))
	}
	hints = append(hints, "or narrow the plan with -target=ADDR, or apply without -max-credits")
	what := "what they spend"
	if p.Summary.UnpricedRequests == 1 {
		what = "what it spends"
	}
	return views.WithHint(
		fmt.Errorf("the plan sends %s (%s), and -max-credits=%d cannot bound %s",
			views.Plural(p.Summary.UnpricedRequests, "unpriced request"), named, max, what),
		hints...)
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}
