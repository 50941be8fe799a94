package storesync

import (
	"context"
	"errors"
	"io"
	"os"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/objstore"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/state"
)

// LocalCache is the local content cache (state.Cache), as the executor
// reads it.
type LocalCache interface {
	Has(digest, provider string) bool
	Open(digest, provider string) (io.ReadCloser, error)
}

// Cache serves an apply's restores: those the plan takes from the store
// by downloading the object it names, the others from the local cache.
type Cache struct {
	ctx     context.Context
	s       *Sync
	local   LocalCache
	objects map[string]object // by state.CacheKey(digest, provider)
}

// object is a store's object that an apply restores, and the size
// recorded for it (0: none) and where: the lockfile's entry at addr, or
// (record set) the store's record of a take's inputs.
type object struct {
	sum    string
	bytes  int64
	addr   addrs.Addr
	path   string
	record string
}

// get streams o to w: s.get, a size mismatch told with where its size
// came from.
func (o object) get(ctx context.Context, s *Sync, w io.Writer) error {
	_, err := s.get(ctx, o.sum, w, o.bytes)
	var es *errSize
	if !errors.As(err, &es) {
		return err
	}
	if o.record != "" {
		return &SizeError{Addr: o.addr, Path: o.path, Record: o.record, Recorded: es.recorded, Actual: es.actual, Object: o.sum}
	}
	return lockfileSize(s.dir, o.addr, o.path, o.sum, es)
}

// maxObjectBytes caps every download from the store: no image pixform
// renders is larger (config.MaxImageBytesLimit), and no size a lockfile
// or a record gives raises it.
const maxObjectBytes = 1 << 30

// Cache returns the cache of an apply of p by provider: the changes
// planned FromStore are downloaded (under ctx), the rest read from local,
// which may be nil.
func (s *Sync) Cache(ctx context.Context, local LocalCache, p *planner.Plan) *Cache {
	c := &Cache{ctx: ctx, s: s, local: local, objects: map[string]object{}}
	for i := range p.Changes {
		ch := &p.Changes[i]
		if !ch.FromStore {
			continue
		}
		o := object{sum: ch.StoreSHA256, addr: ch.PriorAddr, path: ch.Path}
		if ch.Prior != nil && ch.Prior.SHA256 == ch.StoreSHA256 && ch.Prior.Bytes > 0 {
			o.bytes = ch.Prior.Bytes
		}
		c.objects[state.CacheKey(ch.Inputs.Digest(), p.Provider)] = o
	}
	// The takes of a candidates image that the local cache lacks come
	// from the store: the take its entry records when the store holds it
	// and the entry's takes are these (a put-back), else the render the
	// store records of the take's own inputs.
	// A saved plan's apply has not read those records yet: it reads them
	// now (a store that fails leaves the takes to render, as planned).
	// A plan that does not say which takes it restores by the object
	// their entry records (StoreTakes: a plan file of an older pixform)
	// leaves it to the store: whether it holds each such take is asked
	// now when this checkout's note does not know it (.pixform gone): one
	// check per such take, for the changes restored from the store only,
	// so that apply restores a take by its sha256 exactly when the store
	// holds it, whatever the note knew (a store that fails leaves the
	// records to decide, as before).
	var ask []string
	for i := range p.Changes {
		ch := &p.Changes[i]
		if !ch.FromStore || ch.Inputs.Candidates < 2 || ch.StoreTakes != nil {
			// StoreTakes: the plan decided; apply fetches exactly those.
			continue
		}
		for i, seed := range ch.Inputs.TakeSeeds() {
			if local != nil && local.Has(ch.Inputs.Take(seed).Digest(), p.Provider) {
				continue
			}
			if sum, ok := planner.RecordedTakeInStore(ch, p.Provider, i+1, anyObject); ok && !s.has(sum) {
				ask = append(ask, sum)
			}
		}
	}
	if len(ask) > 0 {
		_ = s.Check(ctx, ask)
	}
	var unread []string
	for i := range p.Changes {
		ch := &p.Changes[i]
		if !ch.FromStore || ch.Inputs.Candidates < 2 {
			continue
		}
		for i, seed := range ch.Inputs.TakeSeeds() {
			d := ch.Inputs.Take(seed).Digest()
			if _, ok := planner.RecordedTakeInStore(ch, p.Provider, i+1, s.has); ok {
				continue
			}
			s.mu.Lock()
			_, read := s.records[d]
			s.mu.Unlock()
			if !read && (local == nil || !local.Has(d, p.Provider)) {
				unread = append(unread, d)
			}
		}
	}
	if len(unread) > 0 {
		_ = s.FetchRecords(ctx, unread)
	}
	for i := range p.Changes {
		ch := &p.Changes[i]
		if ch.Inputs.Candidates < 2 || (ch.Action != planner.Create && ch.Action != planner.Replace) {
			continue
		}
		for i, seed := range ch.Inputs.TakeSeeds() {
			d := ch.Inputs.Take(seed).Digest()
			if local != nil && local.Has(d, p.Provider) {
				continue
			}
			// The entry's own object of the take, its size from the
			// lockfile.
			recorded := func(sum string) object {
				return object{sum: sum, bytes: max(ch.Prior.Takes[i].Bytes, 0), addr: ch.PriorAddr, path: ch.Path}
			}
			// The take the entry records, when the store holds it: as
			// the plan put it back (planner.RecordedTakeInStore).
			if sum, ok := planner.RecordedTakeInStore(ch, p.Provider, i+1, s.has); ok {
				c.objects[state.CacheKey(d, p.Provider)] = recorded(sum)
				continue
			}
			if sum, ok := s.Stored(d, p.Provider); ok {
				c.objects[state.CacheKey(d, p.Provider)] = object{sum: sum, bytes: s.recordBytes(d), addr: ch.Addr, path: ch.Path, record: objstore.InputsKey(d)}
				continue
			}
			// The store holds neither the take the entry records nor a
			// record of its inputs: the plan put the take back with no
			// request, so apply asks the store for the entry's own
			// object and fails the image when it is gone, rather than
			// render what the plan did not count.
			if sum, ok := planner.RecordedTakeInStore(ch, p.Provider, i+1, anyObject); ok && ch.FromStore {
				c.objects[state.CacheKey(d, p.Provider)] = recorded(sum)
			}
		}
	}
	return c
}

// anyObject is RecordedTakeInStore's inStore that takes the store to hold
// every object: the take the entry records, whether or not it is there.
func anyObject(string) bool { return true }

// recordBytes is the size the store's record of digest gives, or 0 when
// it gives none.
func (s *Sync) recordBytes(digest string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return max(s.records[digest].Bytes, 0)
}

// Keep keeps a take in the local content cache, when the local cache
// keeps takes (state.Cache does): a take restored from the store or
// rendered is then picked later with no request.
func (c *Cache) Keep(digest, provider string, f *os.File, ext, sum string) error {
	k, ok := c.local.(interface {
		Keep(digest, provider string, f *os.File, ext, sum string) error
	})
	if !ok {
		return errNoCache
	}
	return k.Keep(digest, provider, f, ext, sum)
}

// Info is the local content cache's Info, when it has one.
func (c *Cache) Info(digest, provider string) (state.CacheInfo, bool) {
	ci, ok := c.local.(interface {
		Info(digest, provider string) (state.CacheInfo, bool)
	})
	if !ok {
		return state.CacheInfo{}, false
	}
	return ci.Info(digest, provider)
}

// Has reports whether a render of digest by provider can be restored.
func (c *Cache) Has(digest, provider string) bool {
	if _, ok := c.objects[state.CacheKey(digest, provider)]; ok {
		return true
	}
	return c.local != nil && c.local.Has(digest, provider)
}

// Open streams the store's object for a change planned FromStore, else
// the local cache's copy. The store's bytes are verified against the
// object's name as they end: a reader that returns io.EOF has given all
// of them, whole.
func (c *Cache) Open(digest, provider string) (io.ReadCloser, error) {
	o, ok := c.objects[state.CacheKey(digest, provider)]
	if !ok {
		if c.local == nil {
			return nil, errNoCache
		}
		return c.local.Open(digest, provider)
	}
	ctx, cancel := c.s.bound(c.ctx)
	pr, pw := io.Pipe()
	go func() {
		err := o.get(ctx, c.s, pw)
		if err == nil {
			c.s.known(o.sum)
		}
		pw.CloseWithError(err)
	}()
	return &pipeReader{pr, cancel}, nil
}

// CopyTo writes to w what Open would stream, with no pipe between: the
// store's object for a change planned FromStore, verified against its
// name, else the local cache's copy.
func (c *Cache) CopyTo(digest, provider string, w io.Writer) error {
	o, ok := c.objects[state.CacheKey(digest, provider)]
	if !ok {
		if c.local == nil {
			return errNoCache
		}
		rc, err := c.local.Open(digest, provider)
		if err != nil {
			return err
		}
		defer rc.Close()
		_, err = io.Copy(w, rc)
		return err
	}
	ctx, cancel := c.s.bound(c.ctx)
	defer cancel()
	if err := o.get(ctx, c.s, w); err != nil {
		return err
	}
	c.s.known(o.sum)
	return nil
}

type pipeReader struct {
	*io.PipeReader
	cancel context.CancelFunc
}

func (p *pipeReader) Close() error {
	p.cancel()
	return p.PipeReader.Close()
}

// FromStore reports whether a render of digest by provider is served from
// the image store (executor.StoreServed): its restore is the store's
// object, which the plan counted no request for.
func (c *Cache) FromStore(digest, provider string) bool {
	_, ok := c.objects[state.CacheKey(digest, provider)]
	return ok
}
