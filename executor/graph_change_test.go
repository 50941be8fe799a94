package executor

import (
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/planner"
)

// The graph finds a plan's changes by address without a map: in a plan in
// address order and in one that is not, the last of several changes of an
// address, and none for an address the plan does not hold.
func TestGraphChange(t *testing.T) {
	ch := func(a string, act planner.Action) planner.Change {
		return planner.Change{Addr: addrs.MustParse(a), Action: act}
	}
	tests := map[string]struct {
		changes []planner.Change
		find    string
		want    int // position in changes, -1 for none
	}{
		"empty plan":      {nil, "image.a", -1},
		"sorted first":    {[]planner.Change{ch("image.a", planner.Create), ch("image.b", planner.Delete), ch("image.c", planner.Replace)}, "image.a", 0},
		"sorted last":     {[]planner.Change{ch("image.a", planner.Create), ch("image.b", planner.Delete), ch("image.c", planner.Replace)}, "image.c", 2},
		"sorted absent":   {[]planner.Change{ch("image.a", planner.Create), ch("image.c", planner.Replace)}, "image.b", -1},
		"after the last":  {[]planner.Change{ch("image.a", planner.Create)}, "image.z", -1},
		"unsorted":        {[]planner.Change{ch("image.c", planner.Create), ch("image.a", planner.Delete), ch("image.b", planner.Replace)}, "image.b", 2},
		"unsorted first":  {[]planner.Change{ch("image.c", planner.Create), ch("image.a", planner.Delete), ch("image.b", planner.Replace)}, "image.c", 0},
		"unsorted absent": {[]planner.Change{ch("image.c", planner.Create), ch("image.a", planner.Delete)}, "image.b", -1},
		"indexed keys":    {[]planner.Change{ch("image.i[10]", planner.Create), ch("image.i[2]", planner.Create), ch("image.i[1]", planner.Create)}, "image.i[2]", 1},
		"twice, sorted":   {[]planner.Change{ch("image.a", planner.Delete), ch("image.a", planner.Create), ch("image.b", planner.Create)}, "image.a", 1},
		"twice, unsorted": {[]planner.Change{ch("image.b", planner.Create), ch("image.a", planner.Create), ch("image.a", planner.Delete)}, "image.a", 2},
		"string for_each": {[]planner.Change{ch(`image.s["x"]`, planner.Create), ch(`image.s["a"]`, planner.Create)}, `image.s["a"]`, 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			plan := &planner.Plan{Changes: tc.changes}
			g := newGraph(plan)
			got := g.change(addrs.MustParse(tc.find))
			switch {
			case tc.want < 0 && got != nil:
				t.Errorf("change(%s) = %s, want none", tc.find, got.Addr)
			case tc.want >= 0 && got != &plan.Changes[tc.want]:
				t.Errorf("change(%s) = %v, want the change at %d", tc.find, got, tc.want)
			}
			want := tc.want >= 0 && (tc.changes[tc.want].Action == planner.Create || tc.changes[tc.want].Action == planner.Replace)
			if r := g.rendering(addrs.MustParse(tc.find)); r != want {
				t.Errorf("rendering(%s) = %v, want %v", tc.find, r, want)
			}
		})
	}
}
