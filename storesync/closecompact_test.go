package storesync

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

// keepRun keeps, through a Store of its own closed at its end (an apply
// of its own), content(i) as the render of each of ds in dir's cache.
func keepRun(t *testing.T, dir string, ds []string, content func(d string) string) {
	t.Helper()
	c := state.OpenCache(dir)
	s := state.OpenStore(dir, state.NewLock(), c)
	keepAll(t, c, dir, ds, content)
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func keepAll(t *testing.T, c *state.Cache, dir string, ds []string, content func(d string) string) {
	t.Helper()
	for _, d := range ds {
		f, err := state.CreateTemp(filepath.Join(dir, "out", "a.png"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(content(d)); err != nil {
			t.Fatal(err)
		}
		if err := c.Keep(d, providers.Imagine, f, ".png", sum([]byte(content(d)))); err != nil {
			t.Fatal(err)
		}
		state.AbortTemp(f)
	}
}

// packsOf lists the packs of dir's content cache.
func packsOf(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(filepath.Join(dir, state.WorkDirName, "cache"))
	if err != nil {
		t.Fatal(err)
	}
	var packs []string
	for _, de := range des {
		if strings.HasSuffix(de.Name(), ".pack") {
			packs = append(packs, de.Name())
		}
	}
	return packs
}

// gatedCache is the uploads' LocalCache: each Open says it started (on
// opened), then waits for release before it opens the render.
type gatedCache struct {
	*state.Cache
	opened  chan struct{}
	release chan struct{}
	before  func() // at the release, before the open
}

func (g *gatedCache) Open(d, p string) (io.ReadCloser, error) {
	g.opened <- struct{}{}
	<-g.release
	g.before()
	return g.Cache.Open(d, p)
}

// Close compacts the content cache only once the uploads are done: an
// upload still reading a take from the cache meanwhile would open a pack
// the compaction removed. The compaction still happens, after them.
func TestStoreCloseCompactsAfterTheUploads(t *testing.T) {
	dir := t.TempDir()
	var ds []string
	for i := range 700 {
		ds = append(ds, state.Inputs{Prompt: "p", Style: "s", AspectRatio: "1:1", Seed: int64(i + 1)}.Digest())
	}
	run := func(n int) func(string) string {
		return func(d string) string { return fmt.Sprintf("run %d of %s", n, d) }
	}
	keepRun(t, dir, ds, run(1))
	keepRun(t, dir, ds, run(2)) // half dead: not compacted yet
	before := packsOf(t, dir)
	if len(before) != 2 {
		t.Fatalf("packs %v, want two", before)
	}

	r := newFake()
	s, err := New(dir, r, 1)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cache := state.OpenCache(dir)
	st := s.Wrap(ctx, state.OpenStore(dir, state.NewLock(), cache), &planner.Plan{})
	var stillThere []string
	gate := &gatedCache{Cache: cache, opened: make(chan struct{}, 1), release: make(chan struct{}), before: func() {
		stillThere = packsOf(t, dir)
	}}
	st.cache = gate
	if err := st.Begin(ctx, nil, nil); err != nil {
		t.Fatal(err)
	}
	keepAll(t, cache, dir, ds, run(3)) // two thirds dead: Close compacts
	commitTakes(t, st, cache, "image.a", "a.png", []byte("take one"), []byte("take two"))
	<-gate.opened // the take's upload is reading the cache
	if err := st.End(ctx); err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- st.Close(ctx) }()
	// Once Close waits for the uploads, the take's upload goes on.
	for {
		st.mu.Lock()
		closing := st.closing
		st.mu.Unlock()
		if closing {
			break
		}
		runtime.Gosched()
	}
	close(gate.release)
	if err := <-closed; err != nil {
		t.Fatalf("Close = %v, want every upload done", err)
	}
	for _, p := range before {
		if !slices.Contains(stillThere, p) {
			t.Errorf("pack %s was compacted away while an upload read the cache (packs then: %v)", p, stillThere)
		}
	}
	if after := packsOf(t, dir); len(after) != 1 {
		t.Errorf("packs %v after Close, want one: compacted", after)
	}
	if _, ok := r.objects[sum([]byte("take two"))]; !ok {
		t.Error("the take is not in the store")
	}
}
