package state

import (
	"maps"
	"slices"
)

// Merge merges two lockfiles that both descend from base, entry by entry,
// as git's merge driver for pixform.lock.json: an entry changed (added,
// modified or deleted) on one side only takes that side; one changed
// identically on both takes it; one changed differently on both is a
// conflict. Two addresses left holding the same path is also a conflict.
// Every conflicting address keeps OURS in merged, so merged is always a
// valid lockfile; conflicts lists them sorted (nil when there are none).
// Nil locks are empty.
func Merge(base, ours, theirs *Lock) (merged *Lock, conflicts []string) {
	base, ours, theirs = orEmpty(base), orEmpty(ours), orEmpty(theirs)
	merged = NewLock()
	conflicted := map[string]bool{}
	addrs := map[string]bool{}
	for _, l := range []*Lock{base, ours, theirs} {
		for a := range l.Images {
			addrs[a] = true
		}
	}
	for a := range addrs {
		b, inB := base.Images[a]
		o, inO := ours.Images[a]
		t, inT := theirs.Images[a]
		same := func(x Entry, inX bool, y Entry, inY bool) bool { return inX == inY && x == y }
		var e Entry
		var in bool
		switch {
		case same(o, inO, t, inT): // unchanged, or changed alike
			e, in = o, inO
		case same(o, inO, b, inB): // only theirs changed
			e, in = t, inT
		case same(t, inT, b, inB): // only ours changed
			e, in = o, inO
		default:
			conflicted[a] = true
			e, in = o, inO
		}
		if in {
			merged.Images[a] = e
		}
	}
	// Path collisions: reset every address involved to ours until none
	// remain. Ours is itself valid, so this ends with every path unique.
	for {
		byPath := map[string][]string{}
		for a, e := range merged.Images {
			byPath[e.Path] = append(byPath[e.Path], a)
		}
		changed := false
		for _, as := range byPath {
			if len(as) < 2 {
				continue
			}
			for _, a := range as {
				conflicted[a] = true
				o, inO := ours.Images[a]
				m := merged.Images[a]
				if !inO {
					delete(merged.Images, a)
					changed = true
				} else if m != o {
					merged.Images[a] = o
					changed = true
				}
			}
		}
		if !changed {
			break
		}
	}
	if len(conflicted) > 0 {
		conflicts = slices.Sorted(maps.Keys(conflicted))
	}
	return merged, conflicts
}

func orEmpty(l *Lock) *Lock {
	if l == nil || l.Images == nil {
		return NewLock()
	}
	return l
}
