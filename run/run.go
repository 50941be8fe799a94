// Package run carries out a plan with the state Store (outputs and
// lockfile) and the content cache: the one apply path that `pixform
// apply` and `pixform watch` share. Callers choose the provider and the hooks; run owns how a
// plan's results reach the lockfile.
package run

import (
	"context"
	"errors"
	"fmt"

	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/executor"
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
	// Provider renders; Hooks sees every change's progress.
	Provider executor.Provider
	Hooks    executor.Hooks
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
}

// Apply carries out p and records every change that finished in the
// lockfile, which it writes before it returns.
func Apply(ctx context.Context, p *planner.Plan, o Options) (*executor.Result, error) {
	parallelism := o.Parallelism
	if parallelism == 0 {
		parallelism = o.Config.Provider.Parallelism
	}
	cache := state.OpenCache(o.Dir)
	local := state.OpenStore(o.Dir, o.Lock, cache)
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
	})
	if cerr := store.Close(ctx); cerr != nil && err == nil {
		err = cerr // a *state.RecordError or *storesync.PendingError, which views words the advice for
	}
	return res, err
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
func CheckCredits(p *planner.Plan, max int) error {
	if max >= 0 && p.Summary.Credits > max {
		return views.WithHint(
			fmt.Errorf("the plan would spend %d credits, more than -max-credits=%d", p.Summary.Credits, max),
			"narrow it with -target=ADDR, or raise -max-credits")
	}
	return nil
}
