package executor

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/limiter"
	"github.com/pixform/pixform/media"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

// fakeProvider is a Provider whose behaviour is a function field.
type fakeProvider struct {
	name   string
	render func(ctx context.Context, req Request, w io.Writer) error

	mu    sync.Mutex
	calls map[string]int // by address
}

var _ Provider = (*fakeProvider)(nil)

func (p *fakeProvider) Name() string {
	if p.name == "" {
		return providers.Imagine
	}
	return p.name
}

func (p *fakeProvider) Render(ctx context.Context, req Request, w io.Writer) error {
	p.mu.Lock()
	if p.calls == nil {
		p.calls = map[string]int{}
	}
	p.calls[req.Addr.String()]++
	p.mu.Unlock()
	return p.render(ctx, req, w)
}

func (p *fakeProvider) callsOf(addr string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[addr]
}

// testLimiter is a fixed-size limiter that records outcomes.
type testLimiter struct {
	sem chan struct{}

	mu       sync.Mutex
	outcomes []limiter.Outcome
}

var _ Limiter = (*testLimiter)(nil)

func newTestLimiter(n int) *testLimiter { return &testLimiter{sem: make(chan struct{}, n)} }

func (l *testLimiter) Acquire(ctx context.Context) (limiter.Ticket, error) {
	select {
	case l.sem <- struct{}{}:
		return limiter.Ticket{}, nil
	case <-ctx.Done():
		return limiter.Ticket{}, ctx.Err()
	}
}

func (l *testLimiter) Release(_ limiter.Ticket, o limiter.Outcome) {
	l.mu.Lock()
	l.outcomes = append(l.outcomes, o)
	l.mu.Unlock()
	<-l.sem
}

func (l *testLimiter) Limit() int { return cap(l.sem) }

func (l *testLimiter) Rate() float64 { return 0 }

func (l *testLimiter) held() int { return len(l.sem) }

// fakeClock advances by every wait at once, so backoff costs no real time;
// with block set, waits never end (only ctx or Stop end them).
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	block bool
	waits []time.Duration
}

var _ limiter.Clock = (*fakeClock)(nil)

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	ch := make(chan time.Time, 1)
	if !c.block {
		c.now = c.now.Add(d)
		ch <- c.now
	}
	return ch
}

func (c *fakeClock) waited() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

// fakeRecorder is an in-memory lockfile that checks, at every call, that
// every entry's file exists with its recorded hash and that no two entries
// share a path.
type fakeRecorder struct {
	t     testing.TB
	dir   string
	check bool

	mu      sync.Mutex
	entries map[string]state.Entry
	ops     []string
	failAt  func(op, addr string) error
}

var _ state.Journal = (*fakeRecorder)(nil)

func newFakeRecorder(t testing.TB, dir string, prior map[string]state.Entry) *fakeRecorder {
	r := &fakeRecorder{t: t, dir: dir, check: true, entries: map[string]state.Entry{}}
	for a, e := range prior {
		r.entries[a] = e
	}
	return r
}

// Record applies deletes, then sets, as one write, unless failAt fails
// one of them.
func (r *fakeRecorder) Record(ctx context.Context, deleteAddrs []addrs.Addr, setAddrs map[addrs.Addr]state.Entry) error {
	deletes := make([]string, len(deleteAddrs))
	for i, a := range deleteAddrs {
		deletes[i] = a.String()
	}
	sets := make(map[string]state.Entry, len(setAddrs))
	for a, e := range setAddrs {
		sets[a.String()] = e
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failAt != nil {
		for _, a := range deletes {
			if err := r.failAt("delete", a); err != nil {
				return err
			}
		}
		for a := range sets {
			if err := r.failAt("set", a); err != nil {
				return err
			}
		}
	}
	var op string
	for _, a := range deletes {
		op = "delete " + a
		r.ops = append(r.ops, op)
		delete(r.entries, a)
	}
	for a, e := range sets {
		op = "set " + a
		r.ops = append(r.ops, op)
		r.entries[a] = e
	}
	if len(deletes)+len(sets) > 1 {
		op = "update"
	}
	r.verify(op)
	return nil
}

func (r *fakeRecorder) Close() error { return nil }

func (r *fakeRecorder) Snapshot() *state.Lock {
	lock := state.NewLock()
	for a, e := range r.snapshot() {
		lock.Images[addrs.MustParse(a)] = e
	}
	return lock
}

// store is a state.Store over r, starting from r's entries.
func (r *fakeRecorder) store(cache state.Putter) state.Store {
	return state.NewStore(r.dir, r.Snapshot(), r, cache)
}

// verify checks the lockfile invariant. Called with r.mu held.
func (r *fakeRecorder) verify(op string) {
	if !r.check {
		return
	}
	paths := map[string]string{}
	for a, e := range r.entries {
		if o, ok := paths[e.Path]; ok {
			r.t.Errorf("after %s: %s and %s share path %s", op, o, a, e.Path)
		}
		paths[e.Path] = a
		got, err := fileHash(filepath.Join(r.dir, filepath.FromSlash(e.Path)))
		if err != nil {
			r.t.Errorf("after %s: entry %s: %v", op, a, err)
			continue
		}
		if got != e.SHA256 {
			r.t.Errorf("after %s: entry %s: file %s has hash %.12s, lockfile says %.12s", op, a, e.Path, got, e.SHA256)
		}
	}
}

func (r *fakeRecorder) snapshot() map[string]state.Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := make(map[string]state.Entry, len(r.entries))
	for a, e := range r.entries {
		m[a] = e
	}
	return m
}

// fakeCache is an in-memory content cache.
type fakeCache struct {
	mu    sync.Mutex
	files map[string][]byte
	puts  int
}

var _ Cache = (*fakeCache)(nil)

func (c *fakeCache) Has(digest, provider string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.files[digest+"/"+provider]
	return ok
}

func (c *fakeCache) Put(digest, provider, src, sum string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.files == nil {
		c.files = map[string][]byte{}
	}
	c.files[digest+"/"+provider] = b
	c.puts++
	return nil
}

// Keep takes a temporary file not yet placed, as state.Cache.Keep does.
func (c *fakeCache) Keep(digest, provider string, f *os.File, ext, sum string) error {
	info, err := f.Stat()
	if err != nil {
		return err
	}
	b, err := io.ReadAll(io.NewSectionReader(f, 0, info.Size()))
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.files == nil {
		c.files = map[string][]byte{}
	}
	c.files[digest+"/"+provider] = b
	c.puts++
	return nil
}

func (c *fakeCache) Open(digest, provider string) (io.ReadCloser, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.files[digest+"/"+provider]
	if !ok {
		return nil, fmt.Errorf("cache: %s: %w", digest, fs.ErrNotExist)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// recHooks records events.
type recHooks struct {
	NilHooks
	mu        sync.Mutex
	events    []string
	throttles []Throttle
	onFailed  func(c *planner.Change)
	onThrottl func(c *planner.Change)
	onStarted func(c *planner.Change)
	onWarn    func(c *planner.Change, msg string)
}

func (h *recHooks) add(s string) {
	h.mu.Lock()
	h.events = append(h.events, s)
	h.mu.Unlock()
}

func (h *recHooks) Started(c *planner.Change, attempt int) {
	h.add(fmt.Sprintf("started %s %d", c.Addr, attempt))
	if h.onStarted != nil {
		h.onStarted(c)
	}
}

func (h *recHooks) Retrying(c *planner.Change, attempt int, err error, wait time.Duration) {
	h.add(fmt.Sprintf("retrying %s %d", c.Addr, attempt))
}

func (h *recHooks) Throttled(c *planner.Change, t Throttle) {
	h.mu.Lock()
	h.throttles = append(h.throttles, t)
	h.mu.Unlock()
	h.add(fmt.Sprintf("throttled %s %v", c.Addr, t.Wait))
	if h.onThrottl != nil {
		h.onThrottl(c)
	}
}

func (h *recHooks) Completed(c *planner.Change, e state.Entry, how How) {
	h.add(fmt.Sprintf("completed %s %s", c.Addr, how))
}

func (h *recHooks) Failed(c *planner.Change, err error) {
	h.add(fmt.Sprintf("failed %s", c.Addr))
	if h.onFailed != nil {
		h.onFailed(c)
	}
}

func (h *recHooks) Warn(c *planner.Change, msg string) {
	h.add(fmt.Sprintf("warn %s", c.Addr))
	if h.onWarn != nil {
		h.onWarn(c, msg)
	}
}

func (h *recHooks) count(prefix string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, e := range h.events {
		if strings.HasPrefix(e, prefix) {
			n++
		}
	}
	return n
}

// pngOf encodes a w×h PNG filled with a colour derived from seed.
func pngOf(t testing.TB, w, h int, seed int64) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	c := color.NRGBA{uint8(seed), uint8(seed >> 8), uint8(seed >> 16), 255}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegOf(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func sumOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// writeImage writes a PNG at rel in dir and returns its lockfile entry.
func writeImage(t testing.TB, dir, rel string, in state.Inputs) state.Entry {
	t.Helper()
	b := pngOf(t, 4, 3, in.Seed)
	abs := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(abs, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return state.Entry{Inputs: in, Provider: providers.Imagine, Path: rel, SHA256: sumOf(b), Bytes: int64(len(b)), MediaType: media.PNG, Width: 4, Height: 3}
}

func inputs(prompt string, seed int64) state.Inputs {
	return state.Inputs{Prompt: prompt, Style: "flux-dev", AspectRatio: "1:1", Seed: seed}
}

func addr(name string) addrs.Addr { return addrs.Addr{Name: name} }

// renderPNG is a provider body: a 8×6 PNG whose colour depends on the seed.
func renderPNG(t testing.TB) func(context.Context, Request, io.Writer) error {
	return func(_ context.Context, req Request, w io.Writer) error {
		_, err := w.Write(pngOf(t, 8, 6, req.Seed))
		return err
	}
}

// fileSum returns the hash of the file at rel, or "" when it is missing.
func fileSum(t testing.TB, dir, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
	if errors.Is(err, fs.ErrNotExist) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return sumOf(b)
}

// noTempFiles fails when a temporary file was left anywhere under dir.
func noTempFiles(t testing.TB, dir string) {
	t.Helper()
	var left []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".pixform-tmp-") {
			left = append(left, p)
		}
		return nil
	})
	sort.Strings(left)
	if len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// listFiles lists the regular files under dir outside .pixform/.
func listFiles(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".pixform" {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// fileHash returns the hex SHA-256 of the file at abs.
func fileHash(abs string) (string, error) {
	b, err := os.ReadFile(abs)
	if err != nil {
		return "", err
	}
	return sumOf(b), nil
}
