package planner

import (
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/state"
)

// TestAwaitingReviewJudgesEntry: a put-back, or a replace that keeps its
// approval, is judged by the entry's review, its pick included: an entry
// approved but with takes nobody picked (as apply made before s17-fix1)
// awaits a pick, in a clone without outputs as with them.
func TestAwaitingReviewJudgesEntry(t *testing.T) {
	const x, y = "1111111111111111111111111111111111111111111111111111111111111111", "2222222222222222222222222222222222222222222222222222222222222222"
	in := state.Inputs{Prompt: "a lighthouse", Seed: 6, Candidates: 2}
	takes := []state.Take{{Seed: 6, SHA256: x, Bytes: 1}, {Seed: 7, SHA256: y, Bytes: 1}}
	approved := &state.Approval{By: "Ann", At: "2026-11-30T00:00:00Z", SHA256: x}
	unpicked := &state.Entry{Inputs: in, Path: "images/hero.png", SHA256: x, Bytes: 1, Takes: takes, Approved: approved}
	picked := &state.Entry{Inputs: in, Path: "images/hero.png", SHA256: x, Bytes: 1, Takes: takes, Picked: 1, Approved: approved}
	single := &state.Entry{Inputs: state.Inputs{Prompt: "a lighthouse", Seed: 6}, Path: "images/hero.png", SHA256: x, Bytes: 1, Approved: approved}
	addr := addrs.Addr{Name: "hero"}
	for _, tc := range []struct {
		name string
		c    Change
		want string // "" none, "pick", "approval"
	}{
		{"put back, kept approval, no pick", Change{Action: Replace, Inputs: in, Prior: unpicked, PutBack: true, KeepsApproval: true, FromStore: true}, "pick"},
		{"put back, kept approval, picked", Change{Action: Replace, Inputs: in, Prior: picked, PutBack: true, KeepsApproval: true, FromStore: true}, ""},
		{"put back, no pick", Change{Action: Replace, Inputs: in, Prior: unpicked, PutBack: true, FromStore: true}, "pick"},
		{"kept approval, candidates dropped", Change{Action: Replace, Inputs: single.Inputs, Prior: picked, KeepsApproval: true, FromCache: true}, ""},
		{"kept approval, new takes unpicked", Change{Action: Replace, Inputs: in, Prior: single, KeepsApproval: true, FromCache: true}, "pick"},
		{"kept approval, new takes picked", Change{Action: Replace, Inputs: in, Prior: single, KeepsApproval: true, FromCache: true, Picked: 1}, ""},
		{"unchanged, no pick", Change{Action: NoOp, Inputs: in, Prior: unpicked}, "pick"},
		{"unchanged, picked", Change{Action: NoOp, Inputs: in, Prior: picked}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.c.Addr, tc.c.Path = addr, "images/hero.png"
			got := AwaitingReview(&Plan{Changes: []Change{tc.c}})
			var what string
			if len(got) == 1 {
				what = "approval"
				if got[0].Pick {
					what = "pick"
				}
			}
			if len(got) > 1 || what != tc.want {
				t.Fatalf("AwaitingReview = %+v, want %q", got, tc.want)
			}
		})
	}
}

// TestKeepsApproval: a replace keeps the approval only when it puts the
// very bytes approved back and leaves no take unpicked: not when it
// clears the pick (3 candidates to 2: the first take is the same bytes),
// nor when it places takes nobody picked (a single image given
// candidates, its first take the same bytes), which pixform approve
// would refuse to approve.
func TestKeepsApproval(t *testing.T) {
	const x = "1111111111111111111111111111111111111111111111111111111111111111"
	three := state.Inputs{Prompt: "a lighthouse", Style: "imagine-turbo", AspectRatio: "1:1", Seed: 6, Candidates: 3}
	two := three
	two.Candidates = 2
	one := three
	one.Candidates = 0
	takes := func(in state.Inputs) []state.Take {
		var ts []state.Take
		for _, s := range in.TakeSeeds() {
			ts = append(ts, state.Take{Seed: s, SHA256: x})
		}
		return ts
	}
	ann := &state.Approval{By: "Ann", SHA256: x}
	pickedThree := &state.Entry{Inputs: three, SHA256: x, Takes: takes(three), Picked: 1, Approved: ann}
	single := &state.Entry{Inputs: one, SHA256: x, Approved: ann}
	// The cache holds every take, and the single render, as the bytes x.
	p := &planning{in: Input{
		Cached:       func(string, string) bool { return true },
		CachedSHA256: func(d, _ string) (string, bool) { return x, d != two.PickKey() && d != three.PickKey() },
	}}
	for _, tc := range []struct {
		name  string
		prior *state.Entry
		in    state.Inputs
		want  bool
	}{
		{"the same inputs: the pick stays", pickedThree, three, true},
		{"3 candidates to 2: the pick is cleared", pickedThree, two, false},
		{"candidates dropped, the picked seed kept", pickedThree, one, true},
		{"a single render given candidates: no pick", single, two, false},
		{"a single render put back", single, one, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Change{Action: Replace, Inputs: tc.in, Prior: tc.prior, FromCache: true}
			if got := p.keepsApproval(c); got != tc.want {
				t.Errorf("keepsApproval = %v, want %v (reasons %q)", got, tc.want, reviewCleared(tc.prior, tc.in, got))
			}
		})
	}
}
