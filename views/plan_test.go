package views

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

// replacePlan returns a plan of n replaces whose prompts changed.
func replacePlan(n int) *planner.Plan {
	p := &planner.Plan{Provider: providers.Imagine}
	for i := range n {
		key := fmt.Sprintf("k%02d", i)
		p.Changes = append(p.Changes, planner.Change{
			Addr:    addrs.Addr{Name: "tile", Kind: addrs.StringKey, Key: key},
			Action:  planner.Replace,
			Reasons: []string{"prompt changed: a [-red-]{+blue+} tile"},
			Inputs:  state.Inputs{Prompt: "a blue tile", Style: "imagine-turbo", AspectRatio: "1:1", Seed: 1},
			Path:    "tiles/" + key + ".png",
			Prior:   &state.Entry{Path: "tiles/" + key + ".png"},
		})
	}
	p.Summary = planner.Summarize(p.Changes)
	return p
}

func TestWritePlanCompactBeyondThreshold(t *testing.T) {
	tests := map[string]struct {
		n       int
		verbose bool
		compact bool
	}{
		"at the threshold":         {CompactThreshold, false, false},
		"beyond the threshold":     {CompactThreshold + 1, false, true},
		"beyond, but with verbose": {CompactThreshold + 1, true, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WritePlanWith(&b, replacePlan(tc.n), PlanOptions{Verbose: tc.verbose}); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			lines := strings.Count(out, "\n")
			if got := strings.Contains(out, "one line each"); got != tc.compact {
				t.Fatalf("compact = %v, want %v:\n%s", got, tc.compact, out)
			}
			if tc.compact {
				// heading, blank, a line per change, blank, plan, cost
				if want := tc.n + 5; lines != want {
					t.Errorf("%d lines, want %d:\n%s", lines, want, out)
				}
				if !strings.Contains(out, `  ~ image.tile["k00"]  prompt changed  tiles/k00.png`+"\n") {
					t.Errorf("no compact line for k00:\n%s", out)
				}
			} else if !strings.Contains(out, "because prompt changed: a [-red-]{+blue+} tile") {
				t.Errorf("detailed plan lacks the word diff:\n%s", out)
			}
		})
	}
}

func TestColorWordDiff(t *testing.T) {
	on := palette{true}
	tests := map[string]struct {
		in, want string
	}{
		"replaced": {"a [-red-]{+blue+} car", "a " + ansiRed + "red" + ansiReset + ansiGreen + "blue" + ansiReset + " car"},
		"added":    {"a car {+at night+}", "a car " + ansiGreen + "at night" + ansiReset},
		"unclosed": {"a [-red car", "a [-red car"},
		"brackets": {"a [b] {c}", "a [b] {c}"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := colorWordDiff(on, tc.in); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			if got := colorWordDiff(palette{false}, tc.in); got != tc.in {
				t.Fatalf("colour off changed %q to %q", tc.in, got)
			}
		})
	}
}
