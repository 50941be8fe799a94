package cli

import (
	"errors"
	"fmt"

	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/executor"
	"github.com/pixform/pixform/state"
	"github.com/pixform/pixform/storesync"
	"github.com/pixform/pixform/views"
)

// pickFromStore is executor.Pick for a take that the local content cache
// lacks: with an image store configured (flagURL from -store, else
// PIXFORM_STORE, else the store block), the take is fetched from the store into the cache, verified by
// its sha256, and then picked; no request is made. Without a store, or
// when the take is cached, it is Pick. local is o.Store, which makes and
// gives up the fetched take's temporary file.
func (e *env) pickFromStore(o executor.PickOptions, local storesync.Local, cache *state.Cache, flagURL string) (state.Entry, error) {
	ne, err := executor.Pick(e.ctx, o)
	if !errors.Is(err, executor.ErrTakeNotCached) {
		return ne, err
	}
	l := e.link
	if l == nil {
		var cfg *config.Config
		if flagURL == "" && e.getenv(storeEnv) == "" {
			// Only the store block matters here: a configuration that
			// does not load leaves the pick to fail as not cached.
			c, diags := config.Load(e.dir, config.LoadOptions{Environ: e.stdio.Environ})
			if c == nil || diags.HasErrors() {
				return ne, err
			}
			cfg = c
		}
		var lerr error
		l, lerr = e.linkStore(flagURL, cfg, "", 0)
		if lerr != nil {
			return state.Entry{}, fmt.Errorf("pick: take %d of %s is not in the local content cache, and the image store: %w; nothing was changed", o.Take, o.Addr, lerr)
		}
		if l == nil {
			return ne, err
		}
	}
	if ferr := l.sync.FetchTake(e.ctx, local, cache, o.Addr, o.Entry, o.Take); ferr != nil {
		return state.Entry{}, views.WithHint(fmt.Errorf("pick: take %d of %s is not in the local content cache, and fetching it from the image store %s failed: %w; nothing was changed", o.Take, o.Addr, l.sync.Remote(), ferr),
			"if the store lacks it, run pixform push on the machine that rendered the takes, or "+remakeTake(o.Entry, o.Take))
	}
	return executor.Pick(e.ctx, o)
}
