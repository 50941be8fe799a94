package watch

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
)

// TestApprove: a provider that spends credits applies a change only once
// the user approved the first one, and asks again for every change that
// deletes files; -auto-approve and the draft provider never ask.
func TestApprove(t *testing.T) {
	create := planner.Change{Action: planner.Create, Path: "a.png"}
	del := planner.Change{Action: planner.Delete, Path: "old.png"}
	plan := func(provider string, cs ...planner.Change) *planner.Plan {
		return &planner.Plan{Provider: provider, Changes: cs, Summary: planner.Summarize(cs)}
	}
	type step struct {
		plan   *planner.Plan
		answer string // "" when no question is expected
		want   bool
	}
	tests := map[string]struct {
		auto  bool
		noTTY bool
		steps []step
	}{
		"asks once, then again for a deletion": {steps: []step{
			{plan(providers.Imagine, create), "yes", true},
			{plan(providers.Imagine, create), "", true},
			{plan(providers.Imagine, del), "no", false},
			{plan(providers.Imagine, del), "yes", true},
			{plan(providers.Imagine, create, del), "yes", true},
		}},
		"a refusal leaves the next change to ask": {steps: []step{
			{plan(providers.Imagine, create), "no\n", false},
			{plan(providers.Imagine, create), " yes\n", true},
			{plan(providers.Imagine, create), "", true},
		}},
		"draft never asks": {steps: []step{
			{plan(providers.Draft, create, del), "", true},
		}},
		"-auto-approve never asks": {auto: true, steps: []step{
			{plan(providers.Imagine, create, del), "", true},
		}},
		"no terminal, no -auto-approve: nothing is applied": {noTTY: true, steps: []step{
			{plan(providers.Imagine, create), "", false},
		}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			var out, errw bytes.Buffer
			s := &Session{Out: &out, Err: &errw, Now: time.Now, AutoApprove: tt.auto}
			for i, st := range tt.steps {
				asked := 0
				if !tt.noTTY {
					s.Ask = func(q string) string {
						asked++
						if !strings.Contains(q, "Only 'yes' will be accepted") {
							t.Errorf("step %d: question %q", i, q)
						}
						return st.answer
					}
				}
				if got := s.approve(st.plan, "start"); got != st.want {
					t.Errorf("step %d: approve = %v, want %v", i, got, st.want)
				}
				if wantAsked := map[bool]int{true: 1, false: 0}[st.answer != ""]; asked != wantAsked {
					t.Errorf("step %d: asked %d times, want %d", i, asked, wantAsked)
				}
			}
			if tt.noTTY && !strings.Contains(errw.String(), "no terminal to ask on") {
				t.Errorf("no terminal: stderr %q does not say why", errw.String())
			}
		})
	}
	var out bytes.Buffer
	s := &Session{Out: &out, Now: time.Now, Ask: func(q string) string { out.WriteString(q); return "no" }}
	s.approve(plan(providers.Imagine, create, del), "start")
	if !strings.Contains(out.String(), "and deletes 1 file: old.png.") {
		t.Errorf("the question does not name the deleted file:\n%s", out.String())
	}
}
