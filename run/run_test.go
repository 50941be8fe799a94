package run

import (
	"strings"
	"testing"

	"github.com/pixform/pixform/planner"
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
