package state

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/media"
)

// conflictEntry makes a valid lockfile entry whose prompt and path derive from p.
func conflictEntry(p string) Entry {
	return Entry{
		Inputs:   Inputs{Prompt: p, Style: "flux-dev", AspectRatio: "1:1", Seed: 1},
		Provider: "draft", Path: "images/" + strings.Fields(p)[0] + ".png",
		SHA256: strings.Repeat("ab", 32), Bytes: 10, MediaType: media.PNG, Width: 1, Height: 1,
	}
}

func conflictLock(kv ...string) *Lock {
	l := NewLock()
	for i := 0; i < len(kv); i += 2 {
		l.Images[addrs.MustParse(kv[i])] = conflictEntry(kv[i+1])
	}
	return l
}

// resolve keeps one side of each conflict block: choice[i] is "ours" or
// "theirs" for the i-th block (the last choice repeats).
func resolve(text string, choice ...string) string {
	var out []string
	block, side := -1, ""
	for _, line := range strings.SplitAfter(text, "\n") {
		switch {
		case strings.HasPrefix(line, "<<<<<<<"):
			block++
			side = "ours"
			continue
		case line == "=======\n":
			side = "theirs"
			continue
		case strings.HasPrefix(line, ">>>>>>>"):
			side = ""
			continue
		}
		if side != "" {
			want := choice[min(block, len(choice)-1)]
			if side != want {
				continue
			}
		}
		out = append(out, line)
	}
	return strings.Join(out, "")
}

// TestConflictMarkers checks that the merge driver's conflicted lockfile is
// refused as it is, and that keeping either side of each block (by hand, as
// the hint says) leaves a valid lockfile with exactly that side's entries.
func TestConflictMarkers(t *testing.T) {
	tests := map[string]struct {
		base, ours, theirs *Lock
		choices            [][]string // resolutions to try
	}{
		"both modified, in the middle": {
			base:    conflictLock("image.a", "a", "image.b", "b", "image.c", "c"),
			ours:    conflictLock("image.a", "a", "image.b", "b ours", "image.c", "c"),
			theirs:  conflictLock("image.a", "a", "image.b", "b theirs", "image.c", "c"),
			choices: [][]string{{"ours"}, {"theirs"}},
		},
		"both modified, the last entry": {
			base:    conflictLock("image.a", "a", "image.z", "z"),
			ours:    conflictLock("image.a", "a", "image.z", "z ours"),
			theirs:  conflictLock("image.a", "a", "image.z", "z theirs"),
			choices: [][]string{{"ours"}, {"theirs"}},
		},
		"both modified, the only entry": {
			base:    conflictLock("image.a", "a"),
			ours:    conflictLock("image.a", "a ours"),
			theirs:  conflictLock("image.a", "a theirs"),
			choices: [][]string{{"ours"}, {"theirs"}},
		},
		"theirs deleted the last entry, ours modified it": {
			base:    conflictLock("image.a", "a", "image.z", "z"),
			ours:    conflictLock("image.a", "a", "image.z", "z ours"),
			theirs:  conflictLock("image.a", "a"),
			choices: [][]string{{"ours"}, {"theirs"}},
		},
		"ours deleted the first entry, theirs modified it": {
			base:    conflictLock("image.a", "a", "image.z", "z"),
			ours:    conflictLock("image.z", "z"),
			theirs:  conflictLock("image.a", "a theirs", "image.z", "z"),
			choices: [][]string{{"ours"}, {"theirs"}},
		},
		"ours deleted the only entry, theirs modified it": {
			base:    conflictLock("image.a", "a"),
			ours:    conflictLock(),
			theirs:  conflictLock("image.a", "a theirs"),
			choices: [][]string{{"ours"}, {"theirs"}},
		},
		"adjacent conflicts, one-sided, around a stable entry": {
			base:    conflictLock("image.a", "a", "image.b", "b", "image.c", "c", "image.d", "d"),
			ours:    conflictLock("image.a", "a ours", "image.c", "c", "image.d", "d ours"),
			theirs:  conflictLock("image.b", "b theirs", "image.c", "c"),
			choices: [][]string{{"ours"}, {"theirs"}, {"ours", "theirs", "ours"}, {"theirs", "ours", "theirs"}, {"ours", "ours", "theirs"}},
		},
		"clean changes next to a conflict": {
			base:    conflictLock("image.a", "a", "image.b", "b"),
			ours:    conflictLock("image.a", "a", "image.aa", "aa", "image.b", "b ours"),
			theirs:  conflictLock("image.a", "a", "image.b", "b theirs", "image.bb", "bb"),
			choices: [][]string{{"ours"}, {"theirs"}},
		},
		"both added the same path": {
			base:    conflictLock(),
			ours:    conflictLock("image.x", "same ours"),
			theirs:  conflictLock("image.y", "same theirs"),
			choices: [][]string{{"ours"}, {"theirs"}},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			merged, conflicts := Merge(tt.base, tt.ours, tt.theirs)
			if len(conflicts) == 0 {
				t.Fatalf("no conflict")
			}
			out := string(MarshalConflicts(merged, conflicts, tt.ours, tt.theirs))
			if _, err := ParseLock([]byte(out), LockFileName); err == nil || !strings.Contains(err.Error(), "unresolved merge conflict") {
				t.Fatalf("the conflicted lockfile parses (err %v):\n%s", err, out)
			}
			for _, choice := range tt.choices {
				t.Run(strings.Join(choice, ","), func(t *testing.T) {
					text := resolve(out, choice...)
					got, err := ParseLock([]byte(text), LockFileName)
					if err != nil {
						t.Fatalf("resolved lockfile does not parse: %v\n%s", err, text)
					}
					want := maps.Clone(merged.Images)
					for i, a := range conflicts {
						side := tt.ours
						if choice[min(i, len(choice)-1)] == "theirs" {
							side = tt.theirs
						}
						delete(want, a)
						if e, ok := side.Images[a]; ok {
							want[a] = e
						}
					}
					if !maps.EqualFunc(got.Images, want, Entry.Equal) {
						t.Errorf("resolved to %v, want %v", keysOf(got.Images), keysOf(want))
					}
				})
			}
		})
	}
}

func keysOf(m map[addrs.Addr]Entry) string {
	var b strings.Builder
	keys := slices.SortedFunc(maps.Keys(m), addrs.Addr.Compare)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%q ", k, m[k].Inputs.Prompt)
	}
	return b.String()
}
