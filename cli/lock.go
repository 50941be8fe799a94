package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"

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
	read := func(side, name string) (*state.Lock, error) {
		b, err := os.ReadFile(e.abs(name))
		if errors.Is(err, os.ErrNotExist) || (err == nil && len(strings.TrimSpace(string(b))) == 0) {
			return state.NewLock(), nil // the file did not exist on that side
		}
		if err != nil {
			return nil, fmt.Errorf("lock merge: read %s (%s): %w", side, name, err)
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
		out = withConflictMarkers(out, conflicts, ours, theirs)
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

// withConflictMarkers replaces each conflicting entry in the marshalled
// lockfile with git-style markers around our and their version of it, so
// that git shows a conflict and the lockfile reader refuses the file until
// someone resolves it.
func withConflictMarkers(out []byte, conflicts []string, ours, theirs *state.Lock) []byte {
	text := string(out)
	for _, addr := range conflicts {
		oursText := entryText(ours, addr)
		theirsText := entryText(theirs, addr)
		if oursText != "" {
			if i := strings.Index(text, oursText); i >= 0 {
				// Keep the separator that follows the entry on both sides, so
				// that deleting the markers and one side leaves valid JSON.
				end := i + len(oursText)
				sep := ""
				if strings.HasPrefix(text[end:], ",") {
					sep = ","
				}
				end += len(sep)
				if strings.HasPrefix(text[end:], "\n") {
					end++
				}
				text = text[:i] + "<<<<<<< ours\n" + oursText + sep + "\n=======\n" + orDeleted(theirsText, sep) + ">>>>>>> theirs\n" + text[end:]
				continue
			}
		}
		// Ours deleted the entry: put the markers where the images open.
		block := "<<<<<<< ours\n=======\n" + orDeleted(theirsText, ",") + ">>>>>>> theirs\n"
		anchor := "  \"images\": {\n"
		if i := strings.Index(text, anchor); i >= 0 {
			i += len(anchor)
			text = text[:i] + block + text[i:]
		} else {
			text += block
		}
	}
	return []byte(text)
}

// entryText is the lockfile text of one entry (key to closing brace), or "" when the side has no such entry.
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

// orDeleted is one side's entry text with its separator and newline, or
// nothing when that side deleted the entry.
func orDeleted(text, sep string) string {
	if text == "" {
		return ""
	}
	return text + sep + "\n"
}
