package storesync

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"

	"github.com/pixform/pixform/state"
)

// TakeKeeper is the local content cache as a fetched take goes into it:
// state.Cache.
type TakeKeeper interface {
	Keep(digest, provider string, f *os.File, ext, sum string) error
}

// FetchTake downloads take n of e, recorded at e.Path (relative), from
// the store into the local content cache under the take's own inputs:
// through a temporary file beside e.Path, as a pull downloads, verified by
// the take's sha256 and bounded by its size; the temporary file goes once
// the cache holds the take. No request to render it is ever made.
func (s *Sync) FetchTake(ctx context.Context, cache TakeKeeper, e state.Entry, n int) error {
	t := e.TakeFull(n)
	target := filepath.Join(s.dir, filepath.FromSlash(e.Path))
	f, err := state.CreateTemp(target)
	if err != nil {
		return &FileError{Path: e.Path, Err: err}
	}
	defer state.AbortTemp(f)
	max := t.Bytes
	if max <= 0 {
		max = maxObjectBytes
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	h := sha256.New()
	if err := s.r.Get(ctx, t.SHA256, io.MultiWriter(f, h), max); err != nil {
		return err
	}
	// The store verifies too; the cache takes nothing on trust.
	if got := hex.EncodeToString(h.Sum(nil)); got != t.SHA256 {
		return fmt.Errorf("the store's object for take %d (seed %d) hashes to %s, not to its name %s", n, t.Seed, got, t.SHA256)
	}
	if err := f.Sync(); err != nil {
		return &FileError{Path: e.Path, Err: err}
	}
	s.known(t.SHA256)
	return cache.Keep(e.Inputs.Take(t.Seed).Digest(), e.Provider, f, path.Ext(e.Path), t.SHA256)
}
