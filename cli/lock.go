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
	fs := newFlagSet("lock merge", "lock merge [options] BASE OURS THEIRS")
	e.noColorFlag(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return e.flagExit(fs, err)
	}
	args = append(args[:1], fs.Args()...)
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
		out = state.MarshalConflicts(merged, conflicts, ours, theirs)
	}
	if err := state.WriteFileAtomic(e.abs(args[2]), out); err != nil {
		return e.fail(fmt.Errorf("lock merge: %w", err))
	}
	if len(conflicts) > 0 {
		views.WriteMergeConflicts(e.stdio.Err, conflicts, e.color(false, e.stdio.ErrTerminal))
		return ExitError
	}
	return ExitOK
}
