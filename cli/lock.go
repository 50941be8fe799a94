package cli

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/state"
	"github.com/pixform/pixform/views"
)

// lock implements `pixform lock merge BASE OURS THEIRS`, a git merge driver
// (%O %A %B): the result is written over OURS; exit 0 when clean, 1 with
// conflict markers around each image changed on both sides.
func (e *env) lock(args []string) int {
	if len(args) == 0 || args[0] != "merge" {
		return e.fail(views.WithHint(errors.New("usage: pixform lock merge BASE OURS THEIRS"),
			"as a git merge driver: git config merge.pixform.driver 'pixform lock merge %O %A %B'"))
	}
	if len(args) != 4 {
		return e.fail(errors.New("lock merge takes three files: BASE OURS THEIRS (git passes %O %A %B)"))
	}
	// Git always passes three existing files, and an empty one for a side
	// where the lockfile did not exist. A missing or unreadable file is a
	// mistake in the driver's command line: treating it as empty would
	// delete every entry of OURS, so it fails before OURS is written.
	read := func(side, name string) (*state.Lock, error) {
		b, err := os.ReadFile(e.abs(name))
		if err != nil {
			return nil, views.WithHint(fmt.Errorf("lock merge: read %s (%s): %w", side, name, err),
				"lock merge takes three existing files, BASE OURS THEIRS, as git passes them with 'pixform lock merge %O %A %B'; OURS was not changed")
		}
		if len(strings.TrimSpace(string(b))) == 0 {
			return state.NewLock(), nil // the file did not exist on that side
		}
		l, err := state.ParseLock(b, name)
		if err != nil {
			return nil, fmt.Errorf("lock merge: %s side: %w", side, err)
		}
		return l, nil
	}
	base, err := read("base", args[1])
	if err != nil {
		return e.fail(err)
	}
	ours, err := read("ours", args[2])
	if err != nil {
		return e.fail(err)
	}
	theirs, err := read("theirs", args[3])
	if err != nil {
		return e.fail(err)
	}
	merged, conflicts := state.Merge(base, ours, theirs)
	out := merged.Marshal()
	if len(conflicts) > 0 {
		out = withConflictMarkers(merged, conflicts, ours, theirs)
	}
	if err := state.WriteFileAtomic(e.abs(args[2]), out); err != nil {
		return e.fail(fmt.Errorf("lock merge: %w", err))
	}
	if len(conflicts) > 0 {
		fmt.Fprintf(e.stdio.Err, "pixform: lockfile conflict: %s changed on both sides:\n", pluralize(len(conflicts), "image"))
		for _, c := range conflicts {
			fmt.Fprintf(e.stdio.Err, "  %s\n", c)
		}
		fmt.Fprintln(e.stdio.Err, "hint: keep one side of each marked entry in pixform.lock.json (or delete the entry and re-render it with pixform apply), then git add it.")
		return ExitError
	}
	return ExitOK
}

// withConflictMarkers renders the merged lockfile with git-style markers
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
func withConflictMarkers(merged *state.Lock, conflicts []string, ours, theirs *state.Lock) []byte {
	conflicted := make(map[string]bool, len(conflicts))
	for _, a := range conflicts {
		conflicted[a] = true
	}
	keys := slices.Collect(maps.Keys(merged.Images))
	for _, a := range conflicts {
		if _, ok := merged.Images[a]; !ok {
			keys = append(keys, a)
		}
	}
	config.SortAddrStrings(keys)
	type item struct {
		addr         string
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
	b.WriteString("{\n  \"version\": 1,\n  \"images\": {\n")
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
		b.WriteString("<<<<<<< ours\n" + side(o) + "=======\n" + side(t) + ">>>>>>> theirs\n  }\n}\n")
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
	b.WriteString("  }\n}\n")
	return []byte(b.String())
}

// entryText is the lockfile text of one entry (indent, key, to its closing
// brace), or "" when the side has no such entry.
func entryText(l *state.Lock, addr string) string {
	e, ok := l.Images[addr]
	if !ok {
		return ""
	}
	one := &state.Lock{Images: map[string]state.Entry{addr: e}}
	s := string(one.Marshal())
	start := strings.Index(s, "    \"")
	end := strings.LastIndex(s, "\n  }")
	if start < 0 || end < 0 {
		return ""
	}
	return s[start:end]
}
