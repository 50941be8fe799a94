package executor

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pixform/pixform/edits"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/state"
)

// A change the plan restores from the content cache, whose cached copy is
// gone or damaged by apply, is requested only when Options.Unplanned
// allows that request, which the plan did not count: a saved plan, a
// -max-credits bound, a missing token refuse it, and the image fails
// saying what happened and what to do, with no request sent or counted.
func TestApplyUnplannedRequest(t *testing.T) {
	type asked struct {
		credits, allowed int
		known            bool
	}
	tests := map[string]struct {
		corrupt  bool
		style    string
		refuse   func(credits int, known bool, allowed int) string // nil: no Unplanned
		want     counts
		wantErr  []string
		wantAsks []asked
	}{
		"no bound: the missing copy is requested": {
			want: counts{Generated: 2, Requests: 2, Credits: 30},
		},
		"refused: a missing copy fails, nothing sent": {
			refuse:   func(int, bool, int) string { return "a saved plan is applied as it was made" },
			want:     counts{Failed: 2},
			wantErr:  []string{"could not restore hero.png from the content cache", "the plan counted no request for it, and a saved plan is applied as it was made, so none was sent", "Run plan again"},
			wantAsks: []asked{{15, 0, true}, {15, 0, true}},
		},
		"refused: a damaged copy fails, nothing sent": {
			corrupt:  true,
			refuse:   func(int, bool, int) string { return "a saved plan is applied as it was made" },
			want:     counts{Failed: 2},
			wantErr:  []string{"could not restore hero.png from the content cache", "so none was sent"},
			wantAsks: []asked{{15, 0, true}, {15, 0, true}},
		},
		"a bound allows one request, not two": {
			refuse: func(credits int, known bool, allowed int) string {
				if allowed+credits > 15 {
					return "over"
				}
				return ""
			},
			want:     counts{Generated: 1, Failed: 1, Requests: 1, Credits: 15},
			wantAsks: []asked{{15, 0, true}, {15, 15, true}},
		},
		"an unpriced request is asked about as unpriced": {
			style:    "sdxl-1.0",
			refuse:   func(credits int, known bool, allowed int) string { return "unpriced" },
			want:     counts{Failed: 2},
			wantAsks: []asked{{0, 0, false}, {0, 0, false}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			var changes []planner.Change
			for _, n := range []string{"hero", "icon"} {
				c := create(n, n+".png", 3)
				if tc.style != "" {
					c.Inputs.Style = tc.style
				}
				c.FromCache, c.Requests, c.Credits, c.CreditsKnown = true, 0, 0, false
				if tc.corrupt {
					if e.cache.files == nil {
						e.cache.files = map[string][]byte{}
					}
					b := pngOf(t, 5, 5, 99)
					e.cache.files[c.Inputs.Digest()+"/imagine"] = b[:len(b)/2]
				}
				changes = append(changes, c)
			}
			var asks []asked
			res, _ := e.apply(t, context.Background(), false, changes, func(o *Options) {
				if tc.refuse != nil {
					o.Unplanned = func(credits int, known bool, allowed int) string {
						asks = append(asks, asked{credits, allowed, known})
						return tc.refuse(credits, known, allowed)
					}
				}
			})
			if got := countsOf(res); got != tc.want {
				t.Errorf("counts %+v, want %+v", got, tc.want)
			}
			if sent := e.prov.callsOf("image.hero") + e.prov.callsOf("image.icon"); sent != tc.want.Requests {
				t.Errorf("%d requests sent, %d counted", sent, tc.want.Requests)
			}
			if len(asks) != len(tc.wantAsks) || (len(asks) > 0 && asks[0] != tc.wantAsks[0]) {
				t.Errorf("Unplanned asked %+v, want %+v", asks, tc.wantAsks)
			}
			for _, f := range res.Failures {
				if f.Addr.Name != "hero" {
					continue
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(f.Err.Error(), w) {
						t.Errorf("error %q lacks %q", f.Err, w)
					}
				}
			}
		})
	}
}

// A take the plan restores from the content cache whose cached copy is
// damaged by apply is requested only when Options.Unplanned allows it.
func TestApplyUnplannedTake(t *testing.T) {
	for _, refuse := range []bool{false, true} {
		t.Run(map[bool]string{false: "allowed", true: "refused"}[refuse], func(t *testing.T) {
			e := newEnv(t)
			in := inputs("hero", 7)
			in.Candidates = 2
			seeds := in.TakeSeeds()
			b := pngOf(t, 8, 6, seeds[0])
			e.cache.files = map[string][]byte{
				in.Take(seeds[0]).Digest() + "/imagine": b,
				in.Take(seeds[1]).Digest() + "/imagine": b[:len(b)/2], // damaged
			}
			c := planner.Change{Addr: addr("hero"), Action: planner.Create, Inputs: in, Path: "hero.png", FromCache: true}
			res, _ := e.apply(t, context.Background(), false, []planner.Change{c}, func(o *Options) {
				if refuse {
					o.Unplanned = func(int, bool, int) string { return "a saved plan is applied as it was made" }
				}
			})
			want := counts{Generated: 1, Requests: 1, Credits: 15}
			if refuse {
				want = counts{Failed: 1}
			}
			if got := countsOf(res); got != want {
				t.Fatalf("counts %+v, want %+v", got, want)
			}
			if refuse && !strings.Contains(res.Failures[0].Err.Error(), "the plan counted no request for it, and a saved plan is applied as it was made, so none was sent") {
				t.Errorf("error %q", res.Failures[0].Err)
			}
		})
	}
}

// A local edit planned from the content cache whose cached copy is gone
// is made here again: no request, so nothing for Options.Unplanned to
// refuse.
func TestApplyUnplannedLocalEdit(t *testing.T) {
	e := newEnv(t)
	src := pngOf(t, 8, 6, 1)
	if err := os.WriteFile(filepath.Join(e.dir, "src.png"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	c := planner.Change{Addr: addr("small"), Action: planner.Create, Path: "small.png", FromCache: true,
		Inputs: state.Inputs{Source: "src.png", SourceSHA256: sumOf(src), Resize: "4x0"}}
	res, _ := e.apply(t, context.Background(), false, []planner.Change{c}, func(o *Options) {
		o.Unplanned = func(int, bool, int) string { return "refused" }
	})
	if got, want := countsOf(res), (counts{Generated: 1}); got != want {
		t.Fatalf("counts %+v, want %+v (failures %v)", got, want, res.Failures)
	}
}

// A derived image the plan restores from the content cache, for a source
// hash that turns out otherwise at apply (an edited plan file, a source
// rendered anew), is not in the cache under its true inputs: the request
// that would make it was not counted by the plan, so it is sent only when
// Options.Unplanned allows it.
func TestApplyUnplannedDerived(t *testing.T) {
	for name, tc := range map[string]struct{ allow, store bool }{"refused": {}, "allowed": {allow: true}, "planned from the store, refused": {store: true}} {
		allow := tc.allow
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			ep := &editProvider{fakeProvider: &fakeProvider{render: renderPNG(t)}, t: t}
			up := derivedChange("up", "up.png", "image.hero", "upscale")
			up.Inputs.SourceSHA256 = strings.Repeat("ab", 32)
			up.FromCache, up.Requests, up.Credits, up.CreditsKnown, up.AfterApply = true, 0, 0, false, ""
			if tc.store {
				up.FromCache, up.FromStore, up.StoreSHA256 = false, true, strings.Repeat("cd", 32)
			}
			e.cache.files = map[string][]byte{up.Inputs.Digest() + "/imagine": pngOf(t, 16, 12, 99)}
			asked := 0
			res, err := e.apply(t, context.Background(), false, []planner.Change{create("hero", "hero.png", 7), up}, func(o *Options) {
				o.Provider = ep
				o.Unplanned = func(credits int, known bool, allowed int) string {
					asked++
					if allow {
						return ""
					}
					return "a saved plan is applied as it was made"
				}
			})
			if asked != 1 {
				t.Errorf("Unplanned asked %d times, want once", asked)
			}
			if !allow {
				if err == nil || res.Failed != 1 || len(ep.edits) != 0 || res.Requests != 1 {
					t.Fatalf("err %v, result %+v, %d edits; want image.up failed with no request sent", err, res, len(ep.edits))
				}
				for _, want := range []string{"up.png", "so none was sent", "Run plan again"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not say %q", err, want)
					}
				}
				return
			}
			if err != nil || len(ep.edits) != 1 || res.Generated != 2 {
				t.Errorf("err %v, result %+v, %d edits; want the upscale requested once allowed", err, res, len(ep.edits))
			}
		})
	}
}

// paidOnceEditor answers its first edit with an image refused on arrival
// (Paid), then as editProvider does.
type paidOnceEditor struct {
	*editProvider
	refused atomic.Bool
}

func (p *paidOnceEditor) Edit(ctx context.Context, req edits.Request, w io.Writer) error {
	if p.refused.CompareAndSwap(false, true) {
		p.mu.Lock()
		p.edits = append(p.edits, req)
		p.mu.Unlock()
		return &Error{Class: Transient, Paid: true, Msg: "refused on arrival: 9000×9000 pixels"}
	}
	return p.editProvider.Edit(ctx, req, w)
}

// TestApplyPaidRetryPricedEdit: the one retry of an edit whose answer was
// refused on arrival is a request the plan did not count, asked of
// Options.Unplanned at the price the plan applied (the provider block's),
// not as unpriced (a reviewer saw -max-credits refuse it as "its price is
// unknown").
func TestApplyPaidRetryPricedEdit(t *testing.T) {
	e := newEnv(t)
	ep := &paidOnceEditor{editProvider: &editProvider{fakeProvider: &fakeProvider{render: renderPNG(t)}, t: t}}
	up := derivedChange("up", "up.png", "image.hero", "upscale")
	up.Credits, up.CreditsKnown = 2, true
	var asked []string
	res, err := e.apply(t, context.Background(), false, []planner.Change{create("hero", "hero.png", 7), up}, func(o *Options) {
		o.Provider = ep
		o.Unplanned = func(credits int, known bool, allowed int) string {
			asked = append(asked, fmt.Sprintf("%d %v", credits, known))
			return ""
		}
	})
	if err != nil || res.Generated != 2 || len(ep.edits) != 2 {
		t.Fatalf("err %v, result %+v, %d edits; want the upscale retried once and made", err, res, len(ep.edits))
	}
	if len(asked) != 1 || asked[0] != "2 true" {
		t.Errorf("Unplanned asked %q, want once at 2 credits, known", asked)
	}
}
