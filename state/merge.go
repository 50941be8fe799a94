package state

import (
	"maps"
	"slices"
	"strings"

	"github.com/pixform/pixform/addrs"
)

// Merge merges two lockfiles that both descend from base, entry by entry,
// as git's merge driver for pixform.lock.json: an entry changed (added,
// modified or deleted) on one side only takes that side; one changed
// identically on both takes it; one changed differently on both is a
// conflict. Two addresses left holding the same path is also a conflict.
// Every conflicting address keeps OURS in merged, so merged is always a
// valid lockfile; conflicts lists them in address order (nil when there are none).
// Nil locks are empty.
func Merge(base, ours, theirs *Lock) (merged *Lock, conflicts []addrs.Addr) {
	base, ours, theirs = orEmpty(base), orEmpty(ours), orEmpty(theirs)
	merged = NewLock()
	conflicted := map[addrs.Addr]bool{}
	addrList := map[addrs.Addr]bool{}
	for _, l := range []*Lock{base, ours, theirs} {
		for a := range l.Images {
			addrList[a] = true
		}
	}
	for a := range addrList {
		b, inB := base.Images[a]
		o, inO := ours.Images[a]
		t, inT := theirs.Images[a]
		same := func(x Entry, inX bool, y Entry, inY bool) bool { return inX == inY && (!inX || x.Equal(y)) }
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
		byPath := map[string][]addrs.Addr{}
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
				} else if !m.Equal(o) {
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
		conflicts = slices.Collect(maps.Keys(conflicted))
		slices.SortFunc(conflicts, addrs.Addr.Compare)
	}
	return merged, conflicts
}

func orEmpty(l *Lock) *Lock {
	if l == nil || l.Images == nil {
		return NewLock()
	}
	return l
}

// MarshalConflicts renders the merged lockfile (as Merge returns it) with git-style markers
// around our and their version of each conflicting entry, so that git
// shows a conflict and the lockfile reader refuses the file (naming the
// line) until someone resolves it.
//
// The markers are placed so that keeping either side of every block, and
// deleting the marker lines, leaves valid JSON even where one side deleted
// the entry: an entry that may vanish carries its own comma inside its
// block, after it when an entry that stays follows, else before it. When
// no entry is sure to stay, one block holds every conflicting entry of
// each side.
func MarshalConflicts(merged *Lock, conflicts []addrs.Addr, ours, theirs *Lock) []byte {
	conflicted := make(map[addrs.Addr]bool, len(conflicts))
	for _, a := range conflicts {
		conflicted[a] = true
	}
	keys := slices.Collect(maps.Keys(merged.Images))
	for _, a := range conflicts {
		if _, ok := merged.Images[a]; !ok {
			keys = append(keys, a)
		}
	}
	slices.SortFunc(keys, addrs.Addr.Compare)
	type item struct {
		addr         addrs.Addr
		stable       bool   // present whichever side is kept
		ours, theirs string // entry text of each side of a conflict, "" when absent
	}
	var items []item
	for _, a := range keys {
		if !conflicted[a] {
			items = append(items, item{addr: a, stable: true})
			continue
		}
		it := item{addr: a, ours: entryText(ours, a), theirs: entryText(theirs, a)}
		it.stable = it.ours != "" && it.theirs != ""
		items = append(items, it)
	}
	// Where the stable items are: each item's separator depends on them.
	lastStable := -1
	for i, it := range items {
		if it.stable {
			lastStable = i
		}
	}
	var b strings.Builder
	b.WriteString(lockHead + lockOpen + "\n")
	if lastStable < 0 {
		// Every entry is conflicted and may vanish: one block holding each
		// side's entries keeps either choice valid.
		var o, t []string
		for _, it := range items {
			if it.ours != "" {
				o = append(o, it.ours)
			}
			if it.theirs != "" {
				t = append(t, it.theirs)
			}
		}
		side := func(texts []string) string {
			if len(texts) == 0 {
				return ""
			}
			return strings.Join(texts, ",\n") + "\n"
		}
		b.WriteString("<<<<<<< ours\n" + side(o) + "=======\n" + side(t) + ">>>>>>> theirs" + lockTail)
		return []byte(b.String())
	}
	for i, it := range items {
		// A stable item, or a vanishing one before the last stable item,
		// ends with a comma when a stable item follows; a vanishing item
		// after the last stable one starts with a comma.
		lead, trail := "", ""
		switch {
		case i < lastStable:
			trail = ","
		case i > lastStable:
			lead = ","
		}
		if !conflicted[it.addr] {
			b.WriteString(entryText(merged, it.addr) + trail + "\n")
			continue
		}
		side := func(text string) string {
			if text == "" {
				return ""
			}
			l := lead
			if l != "" {
				l += "\n"
			}
			return l + text + trail + "\n"
		}
		b.WriteString("<<<<<<< ours\n" + side(it.ours) + "=======\n" + side(it.theirs) + ">>>>>>> theirs\n")
	}
	b.WriteString(lockTail[1:])
	return []byte(b.String())
}

// entryText is the lockfile text of one entry, as Marshal writes it (from
// its indent and key to its closing brace), or "" when l has no such entry.
func entryText(l *Lock, addr addrs.Addr) string {
	e, ok := l.Images[addr]
	if !ok {
		return ""
	}
	return string(appendEntry(nil, addr, e)[1:]) // without the leading newline
}
