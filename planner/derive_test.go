package planner

import (
	"strings"
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

const (
	shaA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	shaB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	shaC = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
	shaD = "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
	shaF = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
)

// derived builds a derived image of from (an address or a file path).
func derived(t *testing.T, a, from, op, path string) config.Image {
	img := config.Image{Addr: addr(t, a), Operation: op, Path: path}
	if strings.HasPrefix(from, "image.") {
		img.From = addr(t, from)
	} else {
		img.FromFile = from
	}
	return img
}

func derivedEntry(from, op, srcSHA, path, sha string) state.Entry {
	return state.Entry{
		Inputs:   state.Inputs{Operation: op, Source: from, SourceSHA256: srcSHA},
		Provider: providers.Imagine, Path: path, SHA256: sha, Bytes: 10, MediaType: "image/png", Width: 1, Height: 1,
	}
}

// heroChain is image.hero (prompt, seed 7) at hero.png, upscaled to
// image.hero_2x, resized to 640 wide as image.small.
func heroChain(t *testing.T, prompt string) []config.Image {
	small := derived(t, "image.small", "image.hero_2x", "", "small.png")
	small.Resize = config.Resize{Width: 640}
	return []config.Image{
		img(t, "image.hero", prompt, 7, "hero.png"),
		derived(t, "image.hero_2x", "image.hero", "upscale", "hero_2x.png"),
		small,
	}
}

// heroChainLock is the lockfile of heroChain made from "cat": hero is
// shaA, hero_2x (from shaA) is shaB, small (from shaB) is shaC.
func heroChainLock() map[string]state.Entry {
	small := derivedEntry("image.hero_2x", "", shaB, "small.png", shaC)
	small.Inputs.Resize = "640x0"
	return map[string]state.Entry{
		"image.hero":    entry("cat", 7, "hero.png", providers.Imagine, shaA),
		"image.hero_2x": derivedEntry("image.hero", "upscale", shaA, "hero_2x.png", shaB),
		"image.small":   small,
	}
}

func TestDiffDerived(t *testing.T) {
	ok := func(sha string) FileFact { return FileFact{Exists: true, SHA256: sha} }
	chain := func(prompt string) func(t *testing.T) []config.Image {
		return func(t *testing.T) []config.Image { return heroChain(t, prompt) }
	}
	chainLock := heroChainLock
	chainFacts := map[string]FileFact{"hero.png": ok(shaA), "hero_2x.png": ok(shaB), "small.png": ok(shaC)}
	// withTwin adds image.twin, of hero's inputs, recorded with bytes sha.
	withTwin := func(l map[string]state.Entry, sha string) map[string]state.Entry {
		l["image.twin"] = entry("cat", 7, "twin.png", providers.Imagine, sha)
		return l
	}
	withTwinFact := func(f map[string]FileFact, twin FileFact) map[string]FileFact {
		out := map[string]FileFact{"twin.png": twin}
		for k, v := range f {
			out[k] = v
		}
		return out
	}
	type dwant struct {
		addr       string
		action     Action
		reasons    []string
		afterApply bool
		fromCache  bool
		req        int
		source     string // the planned source hash
	}
	tests := map[string]struct {
		images    func(t *testing.T) []config.Image
		lock      map[string]state.Entry
		facts     map[string]FileFact
		cached    map[string]string // digest → sha of cached renders
		targets   []string
		replace   []string
		prices    map[string]int
		want      []dwant
		requests  int
		credits   int
		unpriced  int
		wantDiags string
	}{
		"create a chain": {
			images: chain("cat"),
			want: []dwant{
				{addr: "image.hero", action: Create, req: 1},
				{addr: "image.hero_2x", action: Create, afterApply: true, req: 1},
				{addr: "image.small", action: Create, afterApply: true},
			},
			requests: 2, credits: 15, unpriced: 1,
		},
		"nothing changed": {
			images: chain("cat"), lock: chainLock(), facts: chainFacts,
			want: []dwant{
				{addr: "image.hero", action: NoOp},
				{addr: "image.hero_2x", action: NoOp, source: shaA},
				{addr: "image.small", action: NoOp, source: shaB},
			},
		},
		"cascade": {
			images: chain("dog"), lock: chainLock(), facts: chainFacts,
			want: []dwant{
				{addr: "image.hero", action: Replace, reasons: []string{"prompt changed"}, req: 1},
				{addr: "image.hero_2x", action: Replace, reasons: []string{"image.hero is replaced"}, afterApply: true, req: 1},
				{addr: "image.small", action: Replace, reasons: []string{"image.hero_2x is replaced"}, afterApply: true},
			},
			requests: 2, credits: 15, unpriced: 1,
		},
		"priced operation": {
			images: chain("dog"), lock: chainLock(), facts: chainFacts, prices: map[string]int{"upscale": 2},
			want: []dwant{
				{addr: "image.hero", action: Replace, req: 1},
				{addr: "image.hero_2x", action: Replace, req: 1, afterApply: true},
				{addr: "image.small", action: Replace, afterApply: true},
			},
			requests: 2, credits: 17,
		},
		"own field replaces only it": {
			images: func(t *testing.T) []config.Image {
				imgs := chain("cat")(t)
				imgs[1].Operation = "remove-background"
				return imgs
			},
			lock: chainLock(), facts: chainFacts,
			want: []dwant{
				{addr: "image.hero", action: NoOp},
				{addr: "image.hero_2x", action: Replace, reasons: []string{`operation changed: "upscale" → "remove-background"`}, req: 1, source: shaA},
				{addr: "image.small", action: Replace, reasons: []string{"image.hero_2x is replaced"}, afterApply: true},
			},
			requests: 1, unpriced: 1,
		},
		"leaf field replaces only the leaf": {
			images: func(t *testing.T) []config.Image {
				imgs := chain("cat")(t)
				imgs[2].Resize = config.Resize{Width: 320}
				return imgs
			},
			lock: chainLock(), facts: chainFacts,
			want: []dwant{
				{addr: "image.hero", action: NoOp},
				{addr: "image.hero_2x", action: NoOp},
				{addr: "image.small", action: Replace, reasons: []string{`resize changed: "640x0" → "320x0"`}, source: shaB},
			},
		},
		"revert restores the chain from the cache": {
			// The lockfile holds the "dog" chain; the configuration goes back
			// to "cat", whose chain the cache holds.
			images: chain("cat"),
			lock: func() map[string]state.Entry {
				l := chainLock()
				h := l["image.hero"]
				h.Inputs.Prompt, h.SHA256 = "dog", shaD
				l["image.hero"] = h
				u := l["image.hero_2x"]
				u.Inputs.SourceSHA256, u.SHA256 = shaD, shaF
				l["image.hero_2x"] = u
				s := l["image.small"]
				s.Inputs.SourceSHA256 = shaF
				l["image.small"] = s
				return l
			}(),
			facts: map[string]FileFact{"hero.png": ok(shaD), "hero_2x.png": ok(shaF), "small.png": ok(shaC)},
			cached: func() map[string]string {
				small := state.Inputs{Source: "image.hero_2x", SourceSHA256: shaB, Resize: "640x0"}
				return map[string]string{
					state.Inputs{Prompt: "cat", Style: "flux-dev", AspectRatio: "1:1", Seed: 7}.Digest():  shaA,
					state.Inputs{Operation: "upscale", Source: "image.hero", SourceSHA256: shaA}.Digest(): shaB,
					small.Digest(): shaC,
				}
			}(),
			want: []dwant{
				{addr: "image.hero", action: Replace, fromCache: true},
				{addr: "image.hero_2x", action: Replace, reasons: []string{"image.hero changed since"}, fromCache: true, source: shaA},
				{addr: "image.small", action: Replace, fromCache: true, source: shaB},
			},
		},
		"hand-edited source file": {
			images: func(t *testing.T) []config.Image {
				return []config.Image{derived(t, "image.shelf", "photos/shelf.jpg", "upscale", "shelf.png")}
			},
			lock:  map[string]state.Entry{"image.shelf": derivedEntry("photos/shelf.jpg", "upscale", shaA, "shelf.png", shaB)},
			facts: map[string]FileFact{"shelf.png": ok(shaB), "photos/shelf.jpg": ok(shaC)},
			want: []dwant{
				{addr: "image.shelf", action: Replace, reasons: []string{"photos/shelf.jpg changed on disk"}, req: 1, source: shaC},
			},
			requests: 1, unpriced: 1,
		},
		"missing source file": {
			images: func(t *testing.T) []config.Image {
				return []config.Image{derived(t, "image.shelf", "photos/shelf.jpg", "upscale", "shelf.png")}
			},
			wantDiags: "photos/shelf.jpg cannot be read",
		},
		"mask of other dimensions than the kept source": {
			images: func(t *testing.T) []config.Image {
				fill := derived(t, "image.fill", "image.hero", "generative-fill", "fill.png")
				fill.Prompt, fill.Mask, fill.MaskWidth, fill.MaskHeight = "books", "m.png", 2, 2
				return []config.Image{img(t, "image.hero", "cat", 7, "hero.png"), fill}
			},
			lock:      map[string]state.Entry{"image.hero": entry("cat", 7, "hero.png", providers.Imagine, shaA)},
			facts:     map[string]FileFact{"hero.png": ok(shaA), "m.png": ok(shaB)},
			wantDiags: "mask m.png is 2×2 pixels and image.hero, which image.fill is made from, is 1×1",
		},
		"mask of other dimensions than the moved source": {
			images: func(t *testing.T) []config.Image {
				fill := derived(t, "image.fill", "image.main", "generative-fill", "fill.png")
				fill.Prompt, fill.Mask, fill.MaskWidth, fill.MaskHeight = "books", "m.png", 2, 2
				return []config.Image{img(t, "image.main", "cat", 7, "hero.png"), fill}
			},
			lock:      map[string]state.Entry{"image.hero": entry("cat", 7, "hero.png", providers.Imagine, shaA)},
			facts:     map[string]FileFact{"hero.png": ok(shaA), "m.png": ok(shaB)},
			wantDiags: "mask m.png is 2×2 pixels and image.main, which image.fill is made from, is 1×1",
		},
		"mask of other dimensions than the moved source file": {
			images: func(t *testing.T) []config.Image {
				fill := derived(t, "image.fill", "image.main", "generative-fill", "fill.png")
				fill.Prompt, fill.Mask, fill.MaskWidth, fill.MaskHeight = "books", "m.png", 2, 2
				return []config.Image{img(t, "image.main", "cat", 7, "main.png"), fill}
			},
			lock:      map[string]state.Entry{"image.main": entry("cat", 7, "hero.png", providers.Imagine, shaA)},
			facts:     map[string]FileFact{"hero.png": ok(shaA), "m.png": ok(shaB)},
			wantDiags: "mask m.png is 2×2 pixels and image.main, which image.fill is made from, is 1×1",
		},
		"mask of other dimensions than the kept fill": {
			images: func(t *testing.T) []config.Image {
				fill := derived(t, "image.fill", "image.hero", "generative-fill", "fill.png")
				fill.Prompt, fill.Mask, fill.MaskWidth, fill.MaskHeight = "books", "m.png", 2, 2
				return []config.Image{img(t, "image.hero", "cat", 7, "hero.png"), fill}
			},
			lock: map[string]state.Entry{"image.hero": entry("cat", 7, "hero.png", providers.Imagine, shaA),
				"image.fill": func() state.Entry {
					e := derivedEntry("image.hero", "generative-fill", shaA, "fill.png", shaC)
					e.Inputs.Prompt, e.Inputs.Mask, e.Inputs.MaskSHA256 = "books", "m.png", shaD
					return e
				}()},
			facts:     map[string]FileFact{"hero.png": ok(shaA), "fill.png": ok(shaC), "m.png": ok(shaB)},
			wantDiags: "mask m.png is 2×2 pixels and image.hero, which image.fill is made from, is 1×1",
		},
		"cycle": {
			images: func(t *testing.T) []config.Image {
				return []config.Image{
					derived(t, "image.a", "image.b", "upscale", "a.png"),
					derived(t, "image.b", "image.a", "upscale", "b.png"),
				}
			},
			wantDiags: "is made from itself",
		},
		"-replace of a derived image": {
			images: chain("cat"), lock: chainLock(), facts: chainFacts, replace: []string{"image.hero_2x"},
			cached: map[string]string{state.Inputs{Operation: "upscale", Source: "image.hero", SourceSHA256: shaA}.Digest(): shaB},
			want: []dwant{
				{addr: "image.hero", action: NoOp},
				{addr: "image.hero_2x", action: Replace, reasons: []string{"-replace requested"}, req: 1, source: shaA},
				{addr: "image.small", action: Replace, reasons: []string{"image.hero_2x is replaced"}, afterApply: true},
			},
			requests: 1, unpriced: 1,
		},
		"from an image of the same bytes: updated in place": {
			images: func(t *testing.T) []config.Image {
				imgs := chain("cat")(t)
				imgs[1].From = addr(t, "image.twin")
				return append(imgs, img(t, "image.twin", "cat", 7, "twin.png"))
			},
			lock: withTwin(chainLock(), shaA), facts: withTwinFact(chainFacts, ok(shaA)),
			want: []dwant{
				{addr: "image.hero", action: NoOp},
				{addr: "image.hero_2x", action: Move, reasons: []string{`from changed: "image.hero" → "image.twin", which holds the same bytes`}, source: shaA},
				{addr: "image.small", action: NoOp, source: shaB},
				{addr: "image.twin", action: NoOp},
			},
		},
		"from an image of the same bytes, file modified": {
			images: func(t *testing.T) []config.Image {
				imgs := chain("cat")(t)
				imgs[1].From = addr(t, "image.twin")
				return append(imgs, img(t, "image.twin", "cat", 7, "twin.png"))
			},
			lock:  withTwin(chainLock(), shaA),
			facts: withTwinFact(map[string]FileFact{"hero.png": ok(shaA), "hero_2x.png": ok(shaF), "small.png": ok(shaC)}, ok(shaA)),
			want: []dwant{
				{addr: "image.hero", action: NoOp},
				{addr: "image.hero_2x", action: Replace, reasons: []string{"file modified on disk", "which holds the same bytes"}, req: 1, source: shaA},
				{addr: "image.small", action: Replace, afterApply: true},
				{addr: "image.twin", action: NoOp},
			},
			requests: 1, unpriced: 1,
		},
		"from an image of other bytes": {
			images: func(t *testing.T) []config.Image {
				imgs := chain("cat")(t)
				imgs[1].From = addr(t, "image.twin")
				return append(imgs, img(t, "image.twin", "cat", 7, "twin.png"))
			},
			lock: withTwin(chainLock(), shaD), facts: withTwinFact(chainFacts, ok(shaD)),
			want: []dwant{
				{addr: "image.hero", action: NoOp},
				{addr: "image.hero_2x", action: Replace, reasons: []string{`from changed: "image.hero" → "image.twin"`}, req: 1, source: shaD},
				{addr: "image.small", action: Replace, afterApply: true},
				{addr: "image.twin", action: NoOp},
			},
			requests: 1, unpriced: 1,
		},
		"target includes the sources": {
			images: chain("dog"), lock: chainLock(), facts: chainFacts, targets: []string{"image.small"},
			want: []dwant{
				{addr: "image.hero", action: Replace, req: 1},
				{addr: "image.hero_2x", action: Replace, req: 1, afterApply: true},
				{addr: "image.small", action: Replace, afterApply: true},
			},
			requests: 2, credits: 15, unpriced: 1,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			lock := state.NewLock()
			for k, e := range tc.lock {
				lock.Images[addr(t, k)] = e
			}
			var targets, replace []addrs.Addr
			for _, s := range tc.targets {
				targets = append(targets, addr(t, s))
			}
			for _, s := range tc.replace {
				replace = append(replace, addr(t, s))
			}
			in := Input{
				Images: tc.images(t), Lock: lock, Facts: tc.facts, Provider: providers.Imagine,
				Targets: targets, Replace: replace, Prices: tc.prices, NewSeed: func() int64 { return 1234 },
				Cached: func(d, p string) bool { _, ok := tc.cached[d]; return ok },
				CachedSHA256: func(d, p string) (string, bool) {
					s, ok := tc.cached[d]
					return s, ok
				},
			}
			plan, diags := Diff(in)
			if tc.wantDiags != "" {
				if !diags.HasErrors() || !strings.Contains(diags.Error(), tc.wantDiags) {
					t.Fatalf("diags %v, want one saying %q", diags, tc.wantDiags)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if len(plan.Changes) != len(tc.want) {
				t.Fatalf("%d changes, want %d: %+v", len(plan.Changes), len(tc.want), plan.Changes)
			}
			for i, w := range tc.want {
				c := plan.Changes[i]
				if c.Addr.String() != w.addr || c.Action != w.action || (c.AfterApply != "") != w.afterApply ||
					c.FromCache != w.fromCache || c.Requests != w.req {
					t.Errorf("change %d = %s %s after-apply %q cache %v req %d, want %+v", i, c.Addr, c.Action, c.AfterApply, c.FromCache, c.Requests, w)
				}
				if w.source != "" && c.Inputs.SourceSHA256 != w.source {
					t.Errorf("%s: source sha %q, want %q", c.Addr, c.Inputs.SourceSHA256, w.source)
				}
				if w.afterApply && c.Inputs.SourceSHA256 != "" {
					t.Errorf("%s: source sha %q known before apply", c.Addr, c.Inputs.SourceSHA256)
				}
				all := strings.Join(c.Reasons, "\n")
				for _, r := range w.reasons {
					if !strings.Contains(all, r) {
						t.Errorf("%s: reasons %q lack %q", c.Addr, c.Reasons, r)
					}
				}
			}
			s := plan.Summary
			if s.Requests != tc.requests || s.Credits != tc.credits || s.UnpricedRequests != tc.unpriced {
				t.Errorf("summary %+v, want %d requests, %d credits, %d unpriced", s, tc.requests, tc.credits, tc.unpriced)
			}
		})
	}
}

func TestCostByEndpoint(t *testing.T) {
	changes := []Change{
		{Requests: 1, Credits: 15, CreditsKnown: true, Inputs: state.Inputs{Style: "flux-dev"}},
		{Requests: 1, Inputs: state.Inputs{Operation: "upscale", Source: "image.a"}},
		{Requests: 1, Credits: 2, CreditsKnown: true, Inputs: state.Inputs{Operation: "remove-background", Source: "image.a"}},
		{Requests: 1, Inputs: state.Inputs{Operation: "upscale", Source: "image.b"}},
		{Inputs: state.Inputs{Source: "image.b", Resize: "1x0"}},
	}
	got := CostByEndpoint(changes)
	want := []EndpointCost{{EndpointTextToImage, 1, 15, 0}, {"remove-background", 1, 2, 0}, {"upscale", 2, 0, 2}}
	if len(got) != len(want) {
		t.Fatalf("%+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%d: %+v, want %+v", i, got[i], want[i])
		}
	}
}
