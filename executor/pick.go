package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/state"
)

// ErrTakeNotCached is in the error of a pick whose take the content cache
// does not hold (rendered on another machine, or the cache was cleaned).
var ErrTakeNotCached = errors.New("the take is not in the local content cache")

// PickOptions configure Pick.
type PickOptions struct {
	// Dir is the working directory.
	Dir string
	// Store places the take and records the entry: the only writer.
	Store state.Store
	// Cache holds the takes; when it is also a TakeKeeper, Pick has it
	// remember the pick for these inputs.
	Cache Cache
	// Addr and Entry are the image as the lockfile records it.
	Addr  addrs.Addr
	Entry state.Entry
	// Take is the 1-based number of the take to place at the entry's path.
	Take int
}

// Pick places take o.Take of a candidates image at its path, from the
// content cache (no request), and records the pick: the take's bytes
// become the entry's, and an approval of other bytes goes. The copy is
// validated against the recorded hash of the take before it is placed.
func Pick(ctx context.Context, o PickOptions) (state.Entry, error) {
	e := o.Entry
	if o.Take < 1 || o.Take > len(e.Takes) {
		return state.Entry{}, fmt.Errorf("%s has no take %d", o.Addr, o.Take)
	}
	t := e.TakeFull(o.Take)
	digest := e.Inputs.Take(t.Seed).Digest()
	if o.Cache == nil || !o.Cache.Has(digest, e.Provider) {
		return state.Entry{}, fmt.Errorf("take %d of %s (seed %d): %w", o.Take, o.Addr, t.Seed, ErrTakeNotCached)
	}
	rc, err := o.Cache.Open(digest, e.Provider)
	if errors.Is(err, fs.ErrNotExist) {
		return state.Entry{}, fmt.Errorf("take %d of %s (seed %d): %w", o.Take, o.Addr, t.Seed, ErrTakeNotCached)
	}
	if err != nil {
		return state.Entry{}, err
	}
	defer rc.Close()
	mt, err := MediaTypeOf(e.Path)
	if err != nil {
		return state.Entry{}, err
	}
	tmp, err := o.Store.CreateTemp(e.Path)
	if err != nil {
		return state.Entry{}, &LocalError{Op: "create the temporary file of", Path: e.Path, Err: err}
	}
	d := newDigestWriter()
	if _, err := io.Copy(io.MultiWriter(tmp, d), rc); err != nil {
		o.Store.AbortTemp(tmp)
		return state.Entry{}, fmt.Errorf("copy take %d of %s from the content cache: %w", o.Take, o.Addr, err)
	}
	out, err := finish(tmp, o.Store.AbortTemp, filepath.Join(o.Dir, filepath.FromSlash(e.Path)), mt, d, "the cached take")
	if err != nil {
		return state.Entry{}, fmt.Errorf("take %d of %s: %w", o.Take, o.Addr, err)
	}
	if out.sha256 != t.SHA256 {
		o.Store.AbortTemp(out.tmp)
		return state.Entry{}, fmt.Errorf("take %d of %s: the cached copy is not the take the lockfile records: %w", o.Take, o.Addr, ErrTakeNotCached)
	}
	// The path is noted before anything changes, as an apply notes the
	// paths it writes: what a hard kill leaves there is known for this
	// pick's leftover (by the take's bytes in the cache, or the log
	// line the Store writes before placing a take the cache could not
	// keep as the pick), not refused as a file of nobody's.
	if err := o.Store.Begin(ctx, []string{e.Path}, nil); err != nil {
		o.Store.AbortTemp(out.tmp)
		return state.Entry{}, fmt.Errorf("pick %s: %w", o.Addr, err)
	}
	ne := e.Pick(o.Take)
	// The cache remembers the pick for these inputs first: the Store
	// drops the entry while the file at its path changes, and a run
	// killed in that moment leaves no entry, which the next apply then
	// restores from the cache with this pick and no request. (It also
	// lets an undo of a later edit restore the pick.) Best effort.
	kept := false
	if k, ok := o.Cache.(TakeKeeper); ok {
		kept = k.Keep(e.Inputs.PickKey(), e.Provider, out.tmp, path.Ext(e.Path), ne.SHA256) == nil
	}
	// Cached only when kept: else the Store logs the take before it is
	// placed (keepOrNote).
	err = o.Store.Commit(ctx, state.Commit{Addr: o.Addr, Entry: ne, Temp: out.tmp, Prior: &state.Prior{Addr: o.Addr, Entry: e}, Cached: kept})
	if eerr := o.Store.End(ctx); err == nil && eerr != nil {
		return ne, fmt.Errorf("pick %s: the take is at %s and recorded, but %w", o.Addr, e.Path, eerr)
	}
	if err != nil {
		return state.Entry{}, err
	}
	return ne, nil
}
