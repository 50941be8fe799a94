package storesync

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/state"
)

// TakeKeeper is the local content cache as a fetched take goes into it:
// state.Cache.
type TakeKeeper interface {
	Keep(digest, provider string, f *os.File, ext, sum string) error
}

// FetchTake downloads take n of e, the entry at addr, recorded at
// e.Path (relative), from the store into the local content cache under
// the take's own inputs: through a temporary file that local makes beside
// e.Path, as a pull downloads, verified by the take's sha256 and by its
// size (a wrong one is the entry's fault, told at its line); the cache
// links that file itself (never the file at its name), and local gives it
// up once the cache holds the take. No request to render it is ever made.
func (s *Sync) FetchTake(ctx context.Context, local Local, cache TakeKeeper, addr addrs.Addr, e state.Entry, n int) error {
	t := e.TakeFull(n)
	f, err := local.CreateTemp(e.Path)
	if err != nil {
		return &FileError{Path: e.Path, Err: err}
	}
	defer local.AbortTemp(f)
	ctx, cancel := s.bound(ctx)
	defer cancel()
	h := sha256.New()
	if _, err := s.get(ctx, t.SHA256, io.MultiWriter(f, h), t.Bytes); err != nil {
		var es *errSize
		if errors.As(err, &es) {
			return lockfileSize(s.dir, addr, e.Path, t.SHA256, es)
		}
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
