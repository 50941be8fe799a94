package executor

import (
	"testing"

	"github.com/pixform/pixform/state"
)

// TestKeptApproval: a restore keeps its entry's approval only for the
// very bytes approved, and never for an entry whose takes nobody picked
// (a pick cleared by fewer candidates, its first take the bytes
// approved): pixform approve refuses such an entry, and apply must not
// make one.
func TestKeptApproval(t *testing.T) {
	const x, y = "1111111111111111111111111111111111111111111111111111111111111111", "2222222222222222222222222222222222222222222222222222222222222222"
	prior := &state.Entry{SHA256: x, Approved: &state.Approval{By: "Ann", SHA256: x}}
	takes := []state.Take{{Seed: 6, SHA256: x}, {Seed: 7, SHA256: y}}
	for _, tc := range []struct {
		name string
		e    state.Entry
		want bool
	}{
		{"the bytes approved", state.Entry{SHA256: x}, true},
		{"other bytes", state.Entry{SHA256: y}, false},
		{"takes, the approved one picked", state.Entry{SHA256: x, Takes: takes, Picked: 1}, true},
		{"takes nobody picked", state.Entry{SHA256: x, Takes: takes}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := keptApproval(prior, &tc.e) != nil; got != tc.want {
				t.Errorf("kept = %v, want %v", got, tc.want)
			}
		})
	}
	if keptApproval(&state.Entry{SHA256: x}, &state.Entry{SHA256: x}) != nil {
		t.Error("an entry without an approval kept one")
	}
}
