package views

import (
	"bytes"
	"strings"
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/state"
)

// The plan's note on unpriced requests is true of each kind: sdxl-1.0
// has no price and none can be set; an edit or transparent endpoint
// takes one in the provider block, under the name the plan shows.
func TestPlanUnpricedNote(t *testing.T) {
	sdxl := planner.Change{Addr: addrs.MustParse("image.s"), Action: planner.Create, Path: "s.png", Requests: 1,
		Inputs: state.Inputs{Prompt: "p", Style: "sdxl-1.0", AspectRatio: "1:1", Seed: 1}}
	clear := planner.Change{Addr: addrs.MustParse("image.t"), Action: planner.Create, Path: "t.png", Requests: 1,
		Inputs: state.Inputs{Prompt: "p", Transparent: true, AspectRatio: "1:1", Seed: 1}}
	tests := map[string]struct {
		changes  []planner.Change
		markdown bool
		want     []string
		not      []string
	}{
		"sdxl": {changes: []planner.Change{sdxl},
			want: []string{"(+ 1 request of sdxl-1.0, which the vendor does not price)"}, not: []string{"prices ="}},
		"sdxl and transparent": {changes: []planner.Change{sdxl, clear},
			want: []string{"sdxl-1.0 has no published price, and none can be set", "the vendor publishes no price for transparent", "prices = { transparent = N }"},
			not:  []string{"upscale", "edit endpoints"}},
		"transparent": {changes: []planner.Change{clear},
			want: []string{"prices = { transparent = N }"}, not: []string{"sdxl"}},
		"markdown transparent": {changes: []planner.Change{clear}, markdown: true,
			want: []string{"1 unpriced request"}, not: []string{"sdxl"}},
		"markdown sdxl": {changes: []planner.Change{sdxl}, markdown: true,
			want: []string{"1 request of sdxl-1.0, which the vendor does not price"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := &planner.Plan{Provider: "imagine", Changes: tc.changes, Summary: planner.Summarize(tc.changes)}
			var b bytes.Buffer
			var err error
			if tc.markdown {
				err = WritePlanMarkdown(&b, p)
			} else {
				err = WritePlan(&b, p, false)
			}
			if err != nil {
				t.Fatal(err)
			}
			out := b.String()
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("plan lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(out, w) {
					t.Errorf("plan has %q:\n%s", w, out)
				}
			}
		})
	}
}
