package executor

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/pixform/pixform/planner"
)

// gatedCache is a content cache whose copies stay open until gate closes,
// counting the copies open at once: a restore holds its image's file and
// buffers until it is in place. The gate closes as soon as more than
// limit are open, or after a while with no more arriving.
type gatedCache struct {
	*fakeCache
	limit int

	mu       sync.Mutex
	open     int
	maxOpen  int
	gate     chan struct{}
	gateOnce sync.Once
}

func (c *gatedCache) Open(digest, provider string) (io.ReadCloser, error) {
	rc, err := c.fakeCache.Open(digest, provider)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.open++
	c.maxOpen = max(c.maxOpen, c.open)
	over := c.open > c.limit
	c.mu.Unlock()
	if over {
		c.gateOnce.Do(func() { close(c.gate) })
	}
	return &gatedReader{c: c, r: rc}, nil
}

type gatedReader struct {
	c *gatedCache
	r io.ReadCloser
}

func (g *gatedReader) Read(p []byte) (int, error) {
	<-g.c.gate
	return g.r.Read(p)
}

func (g *gatedReader) Close() error {
	g.c.mu.Lock()
	g.c.open--
	g.c.mu.Unlock()
	return g.r.Close()
}

// TestApplyBoundsLocalWork: restores, from the content cache or the
// store, take no request slot, yet each holds an image open and in
// memory: no more than Parallelism of them run at once, however wide the
// slack of images waiting for the lockfile.
func TestApplyBoundsLocalWork(t *testing.T) {
	tests := map[string]struct {
		mark func(c *planner.Change)
	}{
		"from the content cache": {mark: func(c *planner.Change) { c.FromCache = true }},
		"from the image store":   {mark: func(c *planner.Change) { c.FromStore = true }},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			const parallel, n = 4, 40
			e := newEnv(t)
			gc := &gatedCache{fakeCache: e.cache, limit: parallel, gate: make(chan struct{})}
			var changes []planner.Change
			for i := range n {
				name := fmt.Sprintf("img%03d", i)
				c := create(name, name+".png", int64(i+1))
				c.Requests, c.Credits = 0, 0
				tt.mark(&c)
				var b bytes.Buffer
				if err := renderPNG(t)(t.Context(), Request{Inputs: c.Inputs}, &b); err != nil {
					t.Fatal(err)
				}
				if e.cache.files == nil {
					e.cache.files = map[string][]byte{}
				}
				e.cache.files[c.Inputs.Digest()+"/imagine"] = b.Bytes()
				changes = append(changes, c)
			}
			// With the bound kept, no more than limit ever arrive: let
			// the restores go after a while.
			go func() {
				time.Sleep(2 * time.Second)
				gc.gateOnce.Do(func() { close(gc.gate) })
			}()
			res, err := e.apply(t, t.Context(), false, changes, func(o *Options) {
				o.Parallelism = parallel
				o.Cache = gc
				o.Store = e.rec.store(gc)
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Restored != n || res.Requests != 0 {
				t.Errorf("restored %d with %d requests, want %d with none", res.Restored, res.Requests, n)
			}
			if gc.maxOpen > parallel {
				t.Errorf("%d restores ran at once, want at most %d (Parallelism)", gc.maxOpen, parallel)
			}
		})
	}
}
