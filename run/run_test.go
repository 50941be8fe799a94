package run

import (
	"errors"
	"strings"
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/executor"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/state"
	"github.com/pixform/pixform/views"
)

func TestCheckCredits(t *testing.T) {
	p := &planner.Plan{Summary: planner.Summary{Credits: 10}}
	tests := []struct {
		max  int
		want string
	}{
		{-1, ""},
		{10, ""},
		{11, ""},
		{9, "the plan would spend 10 credits, more than -max-credits=9"},
		{0, "more than -max-credits=0"},
	}
	if err := CheckCredits(&planner.Plan{Summary: planner.Summary{Credits: 1}}, 0); err == nil || !strings.Contains(err.Error(), "would spend 1 credit, more") {
		t.Errorf("CheckCredits(1 credit, 0) = %v", err)
	}
	for _, tt := range tests {
		err := CheckCredits(p, tt.max)
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("CheckCredits(10 credits, %d) = %v, want %q", tt.max, err, tt.want)
		}
	}
}

func TestPending(t *testing.T) {
	p := &planner.Plan{Changes: []planner.Change{{Action: planner.NoOp}, {Action: planner.Create}, {Action: planner.Delete}, {Action: planner.NoOp}}}
	if got := Pending(p); got != 2 {
		t.Errorf("Pending = %d, want 2", got)
	}
}

// An apply sends a request its plan did not count (a restore from the
// content cache that failed) only within -max-credits, priced, with a
// token, and never for a saved plan, which is the approval.
func TestUnplanned(t *testing.T) {
	p := &planner.Plan{Summary: planner.Summary{Credits: 3}}
	type ask struct {
		credits int
		known   bool
		allowed int
	}
	tests := map[string]struct {
		o    Options
		ask  ask
		want string // "" sends it; "-" means no Unplanned at all
	}{
		"no bound":               {Options{MaxCredits: -1}, ask{15, true, 100}, "-"},
		"within the bound":       {Options{MaxCredits: 20}, ask{15, true, 0}, ""},
		"up to the bound":        {Options{MaxCredits: 20}, ask{1, true, 16}, ""},
		"over the bound":         {Options{MaxCredits: 20}, ask{15, true, 15}, "its 15 credits would bring this apply to 33 credits, more than -max-credits=20"},
		"zero bound":             {Options{MaxCredits: 0}, ask{1, true, 0}, "more than -max-credits=0"},
		"unpriced under a bound": {Options{MaxCredits: 100}, ask{0, false, 0}, "its price is unknown, and -max-credits=100 cannot bound it"},
		"unpriced, no bound":     {Options{MaxCredits: -1}, ask{0, false, 0}, "-"},
		"saved plan":             {Options{MaxCredits: -1, SavedPlan: true}, ask{1, true, 0}, "a saved plan is applied as it was made"},
		"no token":               {Options{MaxCredits: -1, NoToken: true}, ask{1, true, 0}, "IMAGINE_API_TOKEN is not set"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := unplanned(p, tc.o)
			if tc.want == "-" {
				if f != nil {
					t.Fatalf("unplanned requests are bounded: %q", f(tc.ask.credits, tc.ask.known, tc.ask.allowed))
				}
				return
			}
			if f == nil {
				t.Fatal("unplanned requests are not bounded")
			}
			got := f(tc.ask.credits, tc.ask.known, tc.ask.allowed)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// A budget cannot be proven for a request nobody priced: -max-credits
// refuses it, naming the images and what to do for each kind (a price in
// the provider block for the endpoints that take one; sdxl-1.0 takes
// none), and no bound passes it.
func TestCheckCreditsUnpriced(t *testing.T) {
	a := func(s string) addrs.Addr { return addrs.MustParse(s) }
	sdxl := planner.Change{Addr: a("image.s"), Action: planner.Create, Requests: 1, Inputs: state.Inputs{Style: "sdxl-1.0"}}
	clear := planner.Change{Addr: a("image.t"), Action: planner.Create, Requests: 1, Inputs: state.Inputs{Transparent: true}}
	up := planner.Change{Addr: a("image.u"), Action: planner.Create, Requests: 1, Inputs: state.Inputs{Operation: "upscale", Source: "s.png"}}
	priced := planner.Change{Addr: a("image.p"), Action: planner.Create, Requests: 1, Credits: 2, CreditsKnown: true, Inputs: state.Inputs{Operation: "upscale", Source: "s.png"}}
	tests := map[string]struct {
		changes []planner.Change
		max     int
		want    []string // in the error and its hints; nil: no error
		not     []string
	}{
		"no bound": {[]planner.Change{sdxl, clear}, -1, nil, nil},
		"priced":   {[]planner.Change{priced}, 2, nil, nil},
		"sdxl": {[]planner.Change{sdxl}, 100, []string{"1 unpriced request (image.s)", "-max-credits=100 cannot bound what it spends", "sdxl-1.0 has no published price, and none can be set", "priced style"},
			[]string{"prices = {"}},
		"endpoints": {[]planner.Change{clear, up, priced}, 100, []string{"2 unpriced requests (image.t, image.u)", "prices = { transparent = N, upscale = N }"},
			[]string{"sdxl-1.0"}},
		"both": {[]planner.Change{sdxl, up}, 0, []string{"image.s, image.u", "prices = { upscale = N }", "sdxl-1.0 has no published price"}, nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := &planner.Plan{Changes: tc.changes, Summary: planner.Summarize(tc.changes)}
			err := CheckCredits(p, tc.max)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("passed")
			}
			var h *views.Hinted
			text := err.Error()
			if errors.As(err, &h) {
				text += "\n" + strings.Join(h.Hints, "\n")
			}
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("%q lacks %q", text, w)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(text, w) {
					t.Errorf("%q has %q", text, w)
				}
			}
		})
	}
}

// warnHooks records the warnings, by address.
type warnHooks struct {
	executor.NilHooks
	got []string
}

func (h *warnHooks) Warn(c *planner.Change, msg string) {
	h.got = append(h.got, c.Addr.String()+": "+msg)
}

// A Store's warning about a file (a noted removal it kept) goes to the
// change that leaves that path, else to the one that writes it; one
// about a path the plan does not touch, to Options.Warn.
func TestPathWarner(t *testing.T) {
	b := state.Entry{Path: "b.png"}
	p := &planner.Plan{Changes: []planner.Change{
		{Addr: addrs.MustParse("image.a"), Action: planner.Create, Path: "b.png"},
		{Addr: addrs.MustParse("image.b"), Action: planner.Move, Path: "c.png", Prior: &b},
		{Addr: addrs.MustParse("image.d"), Action: planner.Create, Path: "d.png"},
	}}
	h := &warnHooks{}
	var other []string
	w := pathWarner(p, h, func(msg string) { other = append(other, msg) })
	w("B.png", "one")
	w("d.png", "two")
	w("e.png", "three")
	if want := []string{"image.b: one", "image.d: two"}; strings.Join(h.got, "|") != strings.Join(want, "|") {
		t.Errorf("warnings %q, want %q", h.got, want)
	}
	if len(other) != 1 || other[0] != "three" {
		t.Errorf("warnings of no change %q, want [three]", other)
	}
	pathWarner(p, nil, nil)("b.png", "dropped") // no hooks, no warn: nothing
}
