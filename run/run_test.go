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
