package watch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"image/png"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/executor"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/run"
	"github.com/pixform/pixform/state"
)

func TestObsoleteIn(t *testing.T) {
	cfg := &config.Config{Images: []config.Image{
		{Addr: addrs.Addr{Name: "hero"}, Prompt: "fox", Style: "flux-dev", AspectRatio: "16:9", Seed: 1, Path: "images/hero.png"},
		{Addr: addrs.Addr{Name: "icon"}, Prompt: "icon", Style: "flux-dev", AspectRatio: "1:1", Path: "images/icon.png"},
	}}
	obsolete := ObsoleteIn(cfg)
	req := func(addr, prompt, ratio string, seed int64) executor.Request {
		return executor.Request{Addr: addrs.MustParse(addr), Inputs: state.Inputs{Prompt: prompt, Style: "flux-dev", AspectRatio: ratio, Seed: seed}}
	}
	tests := map[string]struct {
		req  executor.Request
		want bool
	}{
		"unchanged":                {req("image.hero", "fox", "16:9", 1), false},
		"prompt changed":           {req("image.hero", "old fox", "16:9", 1), true},
		"ratio changed":            {req("image.hero", "fox", "1:1", 1), true},
		"declared seed changed":    {req("image.hero", "fox", "16:9", 7), true},
		"random seed kept":         {req("image.icon", "icon", "1:1", 12345), false},
		"image no longer declared": {req("image.gone", "x", "1:1", 1), true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := obsolete(tt.req); got != tt.want {
				t.Errorf("obsolete(%+v) = %v, want %v", tt.req, got, tt.want)
			}
		})
	}
}

// slowProvider blocks every Render until its context ends.
type slowProvider struct{ started chan executor.Request }

func (slowProvider) Name() string { return "slow" }

func (p slowProvider) Render(ctx context.Context, req executor.Request, w io.Writer) error {
	p.started <- req
	<-ctx.Done()
	return ctx.Err()
}

func TestSuperseding(t *testing.T) {
	inner := slowProvider{started: make(chan executor.Request, 2)}
	p := NewSuperseding(inner)
	errs := make(chan error, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, addr := range []string{"image.a", "image.b"} {
		go func() { errs <- p.Render(ctx, executor.Request{Addr: addrs.MustParse(addr)}, io.Discard) }()
	}
	<-inner.started
	<-inner.started
	p.Supersede(func(r executor.Request) bool { return r.Addr == addrs.MustParse("image.a") })
	err := <-errs
	if !errors.Is(err, ErrSuperseded) || executor.ClassOf(err) != executor.Invalid {
		t.Fatalf("superseded render returned %v (class %v), want an Invalid superseded error", err, executor.ClassOf(err))
	}
	select {
	case err := <-errs:
		t.Fatalf("the render that is still wanted ended: %v", err)
	default:
	}
	// A retry of the obsolete request is refused at once.
	if err := p.Render(ctx, executor.Request{Addr: addrs.Addr{Name: "a"}}, io.Discard); !errors.Is(err, ErrSuperseded) {
		t.Errorf("retry of an obsolete request: %v, want superseded", err)
	}
	if n := p.Count(); n != 2 {
		t.Errorf("count = %d, want 2", n)
	}
	cancel()
	if err := <-errs; errors.Is(err, ErrSuperseded) {
		t.Errorf("the wanted render was reported superseded")
	}
}

// boundedProvider states bounds and renders nothing.
type boundedProvider struct{ b executor.ImageBounds }

func (boundedProvider) Name() string                                              { return "bounded" }
func (boundedProvider) Render(context.Context, executor.Request, io.Writer) error { return nil }
func (p boundedProvider) ImageBounds() executor.ImageBounds                       { return p.b }

// Superseding states its inner provider's bounds, so that the executor
// checks a watch render's answer as it checks apply's.
func TestSupersedingBounds(t *testing.T) {
	vendor := executor.ImageBounds{MaxPixels: 2048 * 2048, MinSide: 32, AspectTolerance: 0.03}
	tests := map[string]struct {
		inner executor.Provider
		want  executor.ImageBounds
	}{
		"bounded inner":   {boundedProvider{vendor}, vendor},
		"unbounded inner": {slowProvider{}, executor.ImageBounds{}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			var p executor.Provider = NewSuperseding(tt.inner)
			bp, ok := p.(executor.Bounded)
			if !ok {
				t.Fatal("Superseding does not state its inner provider's bounds (not executor.Bounded)")
			}
			if got := bp.ImageBounds(); got != tt.want {
				t.Errorf("ImageBounds() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestObsoleteAfter(t *testing.T) {
	hero, twin, bg := addrs.MustParse("image.hero"), addrs.MustParse("image.twin"), addrs.MustParse("image.bg")
	const sum = "aa11"
	text := func(prompt string) state.Inputs {
		return state.Inputs{Prompt: prompt, Style: "flux-dev", AspectRatio: "1:1", Seed: 1}
	}
	edit := func(source, prompt string) state.Inputs {
		return state.Inputs{Operation: "ai-background", Source: source, SourceSHA256: sum, Prompt: prompt, Seed: 2}
	}
	plan := &planner.Plan{Changes: []planner.Change{
		{Addr: bg, Action: planner.Replace, Inputs: edit("image.hero", "on oak")},
		{Addr: hero, Action: planner.NoOp, Inputs: text("fox"), Prior: &state.Entry{SHA256: sum}},
		{Addr: twin, Action: planner.NoOp, Inputs: text("fox"), Prior: &state.Entry{SHA256: sum}},
	}}
	cfg := func(heroPrompt string, from addrs.Addr, bgPrompt string) *config.Config {
		return &config.Config{Images: []config.Image{ // sorted by address, as Load sorts them
			{Addr: bg, From: from, Operation: "ai-background", Prompt: bgPrompt, Seed: 2},
			{Addr: hero, Prompt: heroPrompt, Style: "flux-dev", AspectRatio: "1:1", Seed: 1},
			{Addr: twin, Prompt: "fox", Style: "flux-dev", AspectRatio: "1:1", Seed: 1},
		}}
	}
	req := executor.Request{Addr: bg, Inputs: edit("image.hero", "on oak")}
	tests := map[string]struct {
		cfg  *config.Config
		want bool
	}{
		"unchanged":                        {cfg("fox", hero, "on oak"), false},
		"its own prompt changed":           {cfg("fox", hero, "on slate"), true},
		"its source's prompt changed":      {cfg("red fox", hero, "on oak"), true},
		"from an image of other bytes":     {cfg("red fox", addrs.MustParse("image.hero"), "on oak"), true},
		"from an image of the same bytes":  {cfg("fox", twin, "on oak"), false},
		"its source is no longer declared": {&config.Config{Images: slices.Delete(cfg("fox", hero, "on oak").Images, 1, 2)}, true},
		"the edit is no longer declared":   {&config.Config{Images: cfg("fox", hero, "on oak").Images[1:]}, true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := ObsoleteAfter(tt.cfg, plan)(req); got != tt.want {
				t.Errorf("obsolete = %v, want %v", got, tt.want)
			}
		})
	}
}

// finishingProvider writes a whole PNG, then finishes only when told,
// whatever its context says: a response that arrived whole just as a save
// superseded its request.
type finishingProvider struct {
	body     []byte
	started  chan struct{}
	finish   chan struct{}
	cancelOK bool // end with the context's error when it is cancelled
}

func (finishingProvider) Name() string { return "imagine" }

func (p finishingProvider) Render(ctx context.Context, req executor.Request, w io.Writer) error {
	p.started <- struct{}{}
	if p.cancelOK {
		<-ctx.Done()
		return ctx.Err()
	}
	<-p.finish
	_, err := w.Write(p.body)
	return err
}

// vendorBounded is a finishingProvider that states the vendor's bounds.
type vendorBounded struct{ finishingProvider }

func (vendorBounded) ImageBounds() executor.ImageBounds {
	return executor.ImageBounds{MinSide: 32, AspectTolerance: 0.03}
}

// keeper is an executor.TakeKeeper that remembers what it kept.
type keeper struct {
	digest, provider, ext, sum string
	body                       []byte
}

func (k *keeper) Keep(digest, provider string, f *os.File, ext, sum string) error {
	b, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<30))
	k.digest, k.provider, k.ext, k.sum, k.body = digest, provider, ext, sum, b
	return err
}

func tinyPNG(t *testing.T) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// renderAsApply renders req through p as the executor's attempt does:
// into a temporary file, hashed on the way, which KeepBody is handed
// when the render fails, and whose error is then the one reported.
func renderAsApply(t *testing.T, p *Superseding, req executor.Request) error {
	f, err := os.CreateTemp(t.TempDir(), "answer-*")
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(f, h)}
	err = p.Render(context.Background(), req, cw)
	if err == nil {
		return nil
	}
	if kerr := p.KeepBody(req, err, f, cw.n, hex.EncodeToString(h.Sum(nil))); kerr != nil {
		err = kerr
	}
	return err
}

// supersededAsItArrives renders req through inner, wrapped to keep in a
// keeper, as apply does (renderAsApply), supersedes it once inner has
// started, then lets inner finish: the render arrives as a save
// supersedes it. It returns the keeper and the error reported.
func supersededAsItArrives(t *testing.T, inner executor.Provider, started, finish chan struct{}, req executor.Request) (*keeper, error) {
	k := &keeper{}
	p := NewSuperseding(inner)
	p.Keep = k
	errs := make(chan error, 1)
	go func() { errs <- renderAsApply(t, p, req) }()
	<-started
	p.Supersede(func(executor.Request) bool { return true })
	close(finish)
	return k, <-errs
}

// countWriter counts what is written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// writerProvider remembers the writer its Render was given.
type writerProvider struct{ got chan io.Writer }

func (writerProvider) Name() string { return "imagine" }

func (p writerProvider) Render(ctx context.Context, req executor.Request, w io.Writer) error {
	p.got <- w
	return nil
}

// A render is written straight to the executor's writer (its temporary
// file), even with a content cache to keep superseded ones in: no copy of
// it is held in memory as it arrives (up to 16 MiB each, it was), since
// KeepBody keeps one from the executor's file.
func TestSupersedingHoldsNoCopy(t *testing.T) {
	inner := writerProvider{got: make(chan io.Writer, 1)}
	p := NewSuperseding(inner)
	p.Keep = &keeper{}
	var w bytes.Buffer
	if err := p.Render(context.Background(), executor.Request{Addr: addrs.MustParse("image.a")}, &w); err != nil {
		t.Fatal(err)
	}
	if got := <-inner.got; got != io.Writer(&w) {
		t.Errorf("the provider wrote to a %T, not to the executor's writer", got)
	}
}

// A superseded request is paid for, or may be: the vendor does not say
// that a cancelled generation is free. One that arrived whole is kept in
// the content cache under its own inputs (a save back to them restores it
// with no request), not placed; one cancelled in flight says it was
// cancelled, as there is no result to discard; one refused before it was
// sent is not counted as sent.
func TestSupersededRequests(t *testing.T) {
	in := state.Inputs{Prompt: "a fox", Style: "imagine-turbo", Seed: 1}
	req := executor.Request{Addr: addrs.MustParse("image.a"), Inputs: in, MediaType: "image/png"}
	all := func(executor.Request) bool { return true }
	body := tinyPNG(t)

	t.Run("arrived whole", func(t *testing.T) {
		inner := finishingProvider{body: body, started: make(chan struct{}, 1), finish: make(chan struct{})}
		k, err := supersededAsItArrives(t, inner, inner.started, inner.finish, req)
		var pe *executor.Error
		if !errors.As(err, &pe) || !errors.Is(err, ErrSuperseded) || pe.Class != executor.Invalid {
			t.Fatalf("err = %v, want an Invalid superseded *executor.Error", err)
		}
		if !pe.Paid || pe.NotSent {
			t.Errorf("Paid = %v, NotSent = %v: a render that arrived is paid for", pe.Paid, pe.NotSent)
		}
		sum := sha256.Sum256(body)
		if k.digest != in.Digest() || k.provider != "imagine" || k.ext != ".png" || k.sum != hex.EncodeToString(sum[:]) || !bytes.Equal(k.body, body) {
			t.Errorf("kept %q/%q%s sum %s (%d bytes), want the render under its own inputs' digest %s", k.digest, k.provider, k.ext, k.sum, len(k.body), in.Digest())
		}
		if !strings.Contains(pe.Msg, "kept in the content cache") {
			t.Errorf("message %q does not say the render is kept", pe.Msg)
		}
	})

	// A reviewer's: kept unchecked, a 100×300 answer to a 1:1 request
	// was later restored from the cache and recorded.
	t.Run("arrived outside the provider's bounds", func(t *testing.T) {
		inner := vendorBounded{finishingProvider{body: body, started: make(chan struct{}, 1), finish: make(chan struct{})}}
		k, err := supersededAsItArrives(t, inner, inner.started, inner.finish, req)
		if k.digest != "" {
			t.Errorf("a 4×4 answer, under the provider's 32 px, was kept as %q", k.digest)
		}
		if err == nil || !strings.Contains(err.Error(), "could not be kept in the content cache (refused: it is 4×4 pixels, smaller than the 32 px") {
			t.Errorf("err = %v, want one saying the answer was refused, not kept", err)
		}
	})

	t.Run("cancelled in flight", func(t *testing.T) {
		inner := finishingProvider{started: make(chan struct{}, 1), cancelOK: true}
		k := &keeper{}
		p := NewSuperseding(inner)
		p.Keep = k
		errs := make(chan error, 1)
		go func() { errs <- p.Render(context.Background(), req, io.Discard) }()
		<-inner.started
		p.Supersede(all)
		err := <-errs
		var pe *executor.Error
		if !errors.As(err, &pe) || !errors.Is(err, ErrSuperseded) {
			t.Fatalf("err = %v, want a superseded *executor.Error", err)
		}
		if !pe.Paid {
			t.Errorf("a cancelled request is not counted as paid: the vendor may bill it")
		}
		if k.digest != "" {
			t.Errorf("a cancelled request kept %q", k.digest)
		}
		if !strings.Contains(pe.Msg, "cancelled") || strings.Contains(pe.Msg, "discarded") {
			t.Errorf("message %q: want it to say the request was cancelled, not that a result was discarded", pe.Msg)
		}
	})

	t.Run("refused before it was sent", func(t *testing.T) {
		p := NewSuperseding(finishingProvider{})
		p.Supersede(all)
		err := p.Render(context.Background(), req, io.Discard)
		var pe *executor.Error
		if !errors.As(err, &pe) || !errors.Is(err, ErrSuperseded) {
			t.Fatalf("err = %v, want a superseded *executor.Error", err)
		}
		if !pe.NotSent || pe.Paid {
			t.Errorf("NotSent = %v, Paid = %v: a request never sent is neither sent nor paid", pe.NotSent, pe.Paid)
		}
	})
}

// Through the apply path watch uses (run.Apply, the executor, the state
// content cache): a render superseded as it arrived is kept in the
// content cache from the executor's temporary file, not placed, not
// recorded, and no temporary file is left.
func TestSupersededKeptThroughApply(t *testing.T) {
	dir := t.TempDir()
	body := tinyPNG(t)
	in := state.Inputs{Prompt: "a fox", Style: "imagine-turbo", Seed: 1}
	inner := finishingProvider{body: body, started: make(chan struct{}, 1), finish: make(chan struct{})}
	p := NewSuperseding(inner)
	cache := state.OpenCache(dir)
	defer cache.Close()
	p.Keep = cache
	plan := &planner.Plan{Provider: "imagine", Changes: []planner.Change{{
		Addr: addrs.MustParse("image.a"), Action: planner.Create, Inputs: in, Path: "images/a.png", Requests: 1,
	}}}
	type result struct {
		res *executor.Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := run.Apply(context.Background(), plan, run.Options{
			Dir: dir, Config: &config.Config{}, Lock: state.NewLock(), Cache: cache,
			Provider: p, Hooks: executor.NilHooks{}, Parallelism: 1, MaxCredits: -1,
		})
		done <- result{res, err}
	}()
	<-inner.started
	p.Supersede(func(executor.Request) bool { return true })
	close(inner.finish)
	r := <-done
	if r.res.Failed != 1 || r.res.Generated != 0 {
		t.Fatalf("failed %d, generated %d (err %v): want the superseded render failed", r.res.Failed, r.res.Generated, r.err)
	}
	info, ok := cache.Info(in.Digest(), "imagine")
	if sum := sha256.Sum256(body); !ok || info.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("content cache holds %+v (%v), want the render of its inputs", info, ok)
	}
	entries, err := os.ReadDir(dir + "/images")
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("images/ holds %v, want nothing placed and no temporary file", entries)
	}
}
