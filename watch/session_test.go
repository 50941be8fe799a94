package watch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/executor"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/run"
	"github.com/pixform/pixform/state"
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

// An Early event (a save taken once its files settled, before the full
// debounce, which may be only the first part of a save) is applied only
// when the plan of the whole save can make everything again as it was at
// no cost: drafts that create or replace. A plan that deletes or moves an
// image, replaces one that records a review or a paid render, renders
// with the Imagine API, or cannot be made is not applied and prints
// nothing: the save is handed back, delivered again after the full
// debounce, and planned and applied then as any save.
func TestEarlyPlanAppliedOnlyWhenHarmless(t *testing.T) {
	draftEntry := &state.Entry{Provider: providers.Draft}
	plan := func(provider string, cs ...planner.Change) *planner.Plan {
		return &planner.Plan{Provider: provider, Changes: cs, Summary: planner.Summarize(cs)}
	}
	for name, tc := range map[string]struct {
		plan  *planner.Plan
		err   error
		apply bool
	}{
		"draft create":  {plan: plan(providers.Draft, planner.Change{Action: planner.Create, Path: "a.png"}), apply: true},
		"draft replace": {plan: plan(providers.Draft, planner.Change{Action: planner.Replace, Path: "a.png", Prior: draftEntry}), apply: true},
		"draft delete": {plan: plan(providers.Draft, planner.Change{Action: planner.Create, Path: "a.png"},
			planner.Change{Action: planner.Delete, Path: "z.png", Prior: draftEntry})},
		"draft move":                 {plan: plan(providers.Draft, planner.Change{Action: planner.Move, Path: "b.png", Prior: draftEntry})},
		"replace of an approved one": {plan: plan(providers.Draft, planner.Change{Action: planner.Replace, Path: "a.png", Prior: &state.Entry{Provider: providers.Draft, Approved: &state.Approval{By: "x"}}})},
		"replace of a picked one":    {plan: plan(providers.Draft, planner.Change{Action: planner.Replace, Path: "a.png", Prior: &state.Entry{Provider: providers.Draft, Takes: []state.Take{{Seed: 1}, {Seed: 2}}, Picked: 2}})},
		"replace of a paid render":   {plan: plan(providers.Draft, planner.Change{Action: planner.Replace, Path: "a.png", Prior: &state.Entry{Provider: providers.Imagine}})},
		"imagine create":             {plan: plan(providers.Imagine, planner.Change{Action: planner.Create, Path: "a.png"})},
		"plan fails":                 {err: run.ErrReported},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			fa := newFakeAfter()
			w, err := New(Options{Dir: dir, After: fa.after, Debounce: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			var out, errw bytes.Buffer
			held := NewHeld(&errw)
			applied := 0
			s := &Session{Dir: dir, Watcher: w, Out: &out, Err: &errw, Held: held, Now: time.Now, AutoApprove: true,
				Plan: func() (*Planned, error) {
					fmt.Fprintln(held, "Warning: from the plan")
					if tc.err != nil {
						return nil, tc.err
					}
					return &Planned{Plan: tc.plan}, nil
				},
				NewProvider: func(*planner.Plan, *config.Config) (executor.Provider, error) {
					applied++
					return nil, errors.New("the test applies nothing")
				},
			}
			ev := &Event{Config: []string{"main.pix.hcl"}, Early: true}
			s.cycle(context.Background(), "change detected (main.pix.hcl)", false, ev)
			if tc.apply {
				if applied != 1 || !strings.Contains(errw.String(), "Warning: from the plan") {
					t.Fatalf("harmless early plan: applied %d times, stderr %q; want applied once, with its diagnostics", applied, errw.String())
				}
				return
			}
			if applied != 0 || out.Len() > 0 || errw.Len() > 0 {
				t.Fatalf("early plan applied %d times, printed %q and %q; want it handed back, silently", applied, out.String(), errw.String())
			}
			fa.waitCalls(t, 1) // the full debounce
			fa.fire(0)
			again := next(t, w)
			if again.Early || !slices.Equal(again.Config, ev.Config) {
				t.Fatalf("handed back: event %+v, want %v, not Early", again, ev.Config)
			}
			s.cycle(context.Background(), "change detected (main.pix.hcl)", false, &again)
			if tc.err == nil && applied != 1 {
				t.Errorf("after the full debounce: applied %d times, want once", applied)
			}
			if !strings.Contains(errw.String(), "Warning: from the plan") {
				t.Errorf("after the full debounce, the plan's diagnostics are not printed: %q", errw.String())
			}
		})
	}
}

// When no inotify instance is free for close notifications, every save
// waits the full debounce: the session says so once, on stderr, with how
// to raise the limit, as soon as its plans render drafts (with the
// Imagine API every save waits the debounce anyway).
func TestSlowSavesSaidOnce(t *testing.T) {
	w, err := New(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.slow = fmt.Errorf("start close notifications: %w", syscall.EMFILE)
	var out, errw bytes.Buffer
	provider := providers.Imagine
	s := &Session{Watcher: w, Out: &out, Err: &errw, Now: time.Now, AutoApprove: true,
		Plan: func() (*Planned, error) { return &Planned{Plan: &planner.Plan{Provider: provider}}, nil }}
	s.cycle(context.Background(), "start", false, nil)
	if errw.Len() > 0 {
		t.Errorf("with the Imagine API: stderr %q, want nothing", errw.String())
	}
	provider = providers.Draft
	for range 2 {
		s.cycle(context.Background(), "start", false, nil)
	}
	if got := strings.Count(errw.String(), "warning:"); got != 1 {
		t.Errorf("stderr has %d warnings, want 1:\n%s", got, errw.String())
	}
	for _, want := range []string{"every save waits the full debounce", "no inotify instance was free", "fs.inotify.max_user_instances"} {
		if !strings.Contains(errw.String(), want) {
			t.Errorf("stderr does not say %q:\n%s", want, errw.String())
		}
	}
}

// A change with requests the vendor does not price (an upscale) says so
// in its status line and its approval question, in the plan's words,
// rather than counting them as 0 credits.
func TestUnpricedWording(t *testing.T) {
	cs := []planner.Change{
		{Action: planner.Create, Path: "a.png", Requests: 1, Credits: 1, CreditsKnown: true, Inputs: state.Inputs{Prompt: "a", Style: "imagine-turbo"}},
		{Action: planner.Create, Path: "b.png", Requests: 1, Inputs: state.Inputs{Source: "image.a", Operation: "upscale"}},
	}
	p := &planner.Plan{Provider: providers.Imagine, Changes: cs, Summary: planner.Summarize(cs)}
	if got, want := summary(p), "2 to create (2 requests, 1 credit + 1 unpriced)"; got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
	var out bytes.Buffer
	s := &Session{Out: &out, Now: time.Now, Ask: func(q string) string { out.WriteString(q); return "no" }}
	s.approve(p, "start")
	q := out.String()
	for _, want := range []string{"for 1 credit and 1 unpriced request", "upscale 1 request unpriced", "prices = { upscale = N }"} {
		if !strings.Contains(q, want) {
			t.Errorf("the question does not say %q:\n%s", want, q)
		}
	}
	if strings.Contains(q, "for 1 credit,") {
		t.Errorf("the question prices the change at 1 credit alone:\n%s", q)
	}
	all := []planner.Change{cs[1]}
	p = &planner.Plan{Provider: providers.Imagine, Changes: all, Summary: planner.Summarize(all)}
	if got, want := summary(p), "1 to create (1 request unpriced)"; got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
}

// Every save of a change the Imagine API renders is a paid request, so
// its saves wait a debounce suited to that (1 s: six saves 300 ms apart
// are one request, not six); drafts keep theirs (100 ms), and -debounce
// sets both.
func TestDebounceByProvider(t *testing.T) {
	for name, tc := range map[string]struct {
		provider string
		set      time.Duration // -debounce; 0: not given
		want     time.Duration
	}{
		"imagine":             {providers.Imagine, 0, DefaultPaidDebounce},
		"draft":               {providers.Draft, 0, DefaultDebounce},
		"imagine, -debounce":  {providers.Imagine, 300 * time.Millisecond, 300 * time.Millisecond},
		"draft, -debounce=2s": {providers.Draft, 2 * time.Second, 2 * time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			fa := newFakeAfter()
			w, err := New(Options{Dir: dir, After: fa.after, Debounce: tc.set})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			var out, errw bytes.Buffer
			s := &Session{Dir: dir, Watcher: w, Out: &out, Err: &errw, Now: time.Now, AutoApprove: true, Debounce: tc.set,
				Plan: func() (*Planned, error) { return &Planned{Plan: &planner.Plan{Provider: tc.provider}}, nil }}
			s.cycle(context.Background(), "start", false, nil)
			w.SetFast(false) // a draft's save that settles is taken sooner: here, the full debounce
			place(t, dir+"/main.pix.hcl", "x")
			fa.waitCalls(t, 1) // the quiet time
			fa.fire(0)
			fa.waitCalls(t, 1) // the rest of the debounce
			fa.mu.Lock()
			got := fa.durations[0] + fa.durations[1]
			fa.mu.Unlock()
			if got != tc.want {
				t.Errorf("a save waits %v, want %v", got, tc.want)
			}
		})
	}
}
