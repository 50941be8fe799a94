package state

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pixform/pixform/addrs"
)

func TestMerge(t *testing.T) {
	e := func(i int) Entry { return entryN(i) }
	ep := func(i int, p string) Entry { x := entryN(i); x.Path = p; return x }
	L := func(kv ...any) *Lock {
		l := NewLock()
		for i := 0; i < len(kv); i += 2 {
			l.Images[addrs.MustParse(kv[i].(string))] = kv[i+1].(Entry)
		}
		return l
	}
	tests := map[string]struct {
		base, ours, theirs *Lock
		want               *Lock
		conflicts          []string
	}{
		"all equal": {L("image.a", e(0)), L("image.a", e(0)), L("image.a", e(0)), L("image.a", e(0)), nil},
		"all nil":   {nil, nil, nil, NewLock(), nil},
		"adjacent additions on both sides": {
			L("image.a", e(0)),
			L("image.a", e(0), "image.b", e(1)),
			L("image.a", e(0), "image.c", e(2)),
			L("image.a", e(0), "image.b", e(1), "image.c", e(2)), nil,
		},
		"adjacent keyed additions": {
			L(`image.i["a"]`, e(0)),
			L(`image.i["a"]`, e(0), `image.i["b"]`, e(1)),
			L(`image.i["a"]`, e(0), `image.i["ba"]`, e(2)),
			L(`image.i["a"]`, e(0), `image.i["b"]`, e(1), `image.i["ba"]`, e(2)), nil,
		},
		"theirs modified": {
			L("image.a", e(0), "image.b", e(1)),
			L("image.a", e(0), "image.b", e(1)),
			L("image.a", e(5), "image.b", e(1)),
			L("image.a", e(5), "image.b", e(1)), nil,
		},
		"ours modified": {
			L("image.a", e(0)), L("image.a", e(5)), L("image.a", e(0)), L("image.a", e(5)), nil,
		},
		"theirs deleted": {
			L("image.a", e(0), "image.b", e(1)), L("image.a", e(0), "image.b", e(1)), L("image.b", e(1)), L("image.b", e(1)), nil,
		},
		"ours deleted": {
			L("image.a", e(0), "image.b", e(1)), L("image.b", e(1)), L("image.a", e(0), "image.b", e(1)), L("image.b", e(1)), nil,
		},
		"both deleted": {
			L("image.a", e(0)), L(), L(), L(), nil,
		},
		"same change on both": {
			L("image.a", e(0)), L("image.a", e(5)), L("image.a", e(5)), L("image.a", e(5)), nil,
		},
		"same addition on both": {
			L(), L("image.a", e(5)), L("image.a", e(5)), L("image.a", e(5)), nil,
		},
		"different modifications": {
			L("image.a", e(0), "image.b", e(1)),
			L("image.a", e(5), "image.b", e(1)),
			L("image.a", e(6), "image.b", e(7)),
			L("image.a", e(5), "image.b", e(7)), []string{"image.a"},
		},
		"different additions": {
			L(), L("image.a", e(5)), L("image.a", e(6)), L("image.a", e(5)), []string{"image.a"},
		},
		"delete vs modify (ours deletes)": {
			L("image.a", e(0)), L(), L("image.a", e(6)), L(), []string{"image.a"},
		},
		"modify vs delete (theirs deletes)": {
			L("image.a", e(0)), L("image.a", e(5)), L(), L("image.a", e(5)), []string{"image.a"},
		},
		"path collision between additions": {
			L(),
			L("image.a", ep(1, "x.png")),
			L("image.b", ep(2, "x.png")),
			L("image.a", ep(1, "x.png")), []string{"image.a", "image.b"},
		},
		"path collision: theirs moves onto a path ours added": {
			L("image.b", ep(2, "old.png")),
			L("image.a", ep(1, "x.png"), "image.b", ep(2, "old.png")),
			L("image.b", ep(2, "x.png")),
			L("image.a", ep(1, "x.png"), "image.b", ep(2, "old.png")), []string{"image.a", "image.b"},
		},
		"cascading path collision": {
			// theirs moves b off old.png and c onto it; ours adds a at b's new path.
			L("image.b", ep(2, "old.png"), "image.c", ep(3, "c.png")),
			L("image.a", ep(1, "x.png"), "image.b", ep(2, "old.png"), "image.c", ep(3, "c.png")),
			L("image.b", ep(2, "x.png"), "image.c", ep(3, "old.png")),
			L("image.a", ep(1, "x.png"), "image.b", ep(2, "old.png"), "image.c", ep(3, "c.png")),
			[]string{"image.a", "image.b", "image.c"},
		},
		"path swap on one side is fine": {
			L("image.a", ep(1, "a.png"), "image.b", ep(2, "b.png")),
			L("image.a", ep(1, "a.png"), "image.b", ep(2, "b.png")),
			L("image.a", ep(1, "b.png"), "image.b", ep(2, "a.png")),
			L("image.a", ep(1, "b.png"), "image.b", ep(2, "a.png")), nil,
		},
	}
	// Cases whose conflicts depend on which side a conflict keeps.
	asymmetric := map[string]bool{"cascading path collision": true}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			baseBefore, oursBefore := tc.base.Clone().Marshal(), tc.ours.Clone().Marshal()
			got, conflicts := Merge(tc.base, tc.ours, tc.theirs)
			if string(got.Marshal()) != string(tc.want.Marshal()) {
				t.Errorf("merged:\n%s\nwant:\n%s", got.Marshal(), tc.want.Marshal())
			}
			if !slices.Equal(addrStrings(conflicts), tc.conflicts) {
				t.Errorf("conflicts %v, want %v", conflicts, tc.conflicts)
			}
			// The result is always a valid lockfile, and inputs are untouched.
			if _, err := ParseLock(got.Marshal(), "merged"); err != nil {
				t.Errorf("merged lock does not parse: %v", err)
			}
			if string(tc.base.Clone().Marshal()) != string(baseBefore) || string(tc.ours.Clone().Marshal()) != string(oursBefore) {
				t.Error("Merge changed its inputs")
			}
			// Merging is symmetric except for which side a conflict keeps.
			_, rev := Merge(tc.base, tc.theirs, tc.ours)
			if !asymmetric[name] && fmt.Sprint(rev) != fmt.Sprint(conflicts) {
				t.Errorf("swapped sides give conflicts %v, want %v", rev, conflicts)
			}
		})
	}
}

// Picks and approvals are fields of the image's own entry: two branches
// that review different images merge without conflict, byte for byte as
// if one had made both reviews, and the same image reviewed on both sides
// differently is a conflict that names the approvals.
func TestMergeReviews(t *testing.T) {
	base, err := ParseLock([]byte(mustRead(t, "candidates.json")), "base")
	if err != nil {
		t.Fatal(err)
	}
	hero, icon := addrs.MustParse("image.hero"), addrs.MustParse("image.icon")
	for _, a := range []addrs.Addr{hero, icon} {
		e := base.Images[a]
		e.Approved = nil
		base.Images[a] = e
	}
	at := func(s string) time.Time { tm, _ := time.Parse(time.RFC3339, s); return tm }
	ours, theirs, both := base.Clone(), base.Clone(), base.Clone()
	ours.Images[hero] = base.Images[hero].Pick(3).Approve("Ann", at("2026-11-29T13:00:00Z"))
	theirs.Images[icon] = base.Images[icon].Approve("Bo", at("2026-11-29T13:05:00Z"))
	both.Images[hero], both.Images[icon] = ours.Images[hero], theirs.Images[icon]
	merged, conflicts := Merge(base, ours, theirs)
	if len(conflicts) != 0 {
		t.Fatalf("conflicts %v", conflicts)
	}
	if got, want := string(merged.Marshal()), string(both.Marshal()); got != want {
		t.Fatalf("merged:\n%s\nwant:\n%s", got, want)
	}

	theirs.Images[hero] = base.Images[hero].Approve("Bo", at("2026-11-29T13:05:00Z"))
	merged, conflicts = Merge(base, ours, theirs)
	if !slices.Equal(conflicts, []addrs.Addr{hero}) {
		t.Fatalf("conflicts %v, want image.hero", conflicts)
	}
	_, err = ParseLock(MarshalConflicts(merged, conflicts, ours, theirs), "pixform.lock.json")
	out := fmt.Sprint(err)
	for _, w := range []string{`approved: ours by "Ann" at 2026-11-29T13:00:00Z, theirs by "Bo"`, "picked: ours 3, theirs 2"} {
		if !strings.Contains(out, w) {
			t.Errorf("conflict file lacks %q:\n%s", w, out)
		}
	}
}
