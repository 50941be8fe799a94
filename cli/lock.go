package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/pixform/pixform/addrs"
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
		changed, clashes := classifyConflicts(base, ours, theirs, conflicts)
		views.WriteMergeConflicts(e.stdio.Err, changed, clashes, e.color(false, e.stdio.ErrTerminal))
		return ExitError
	}
	return ExitOK
}

// classifyConflicts tells apart the conflicts of state.Merge: the images
// changed differently on the two sides, and the others, each of which
// was left recording a path that another records (grouped by that path,
// in address order). An image changed on both sides is told as such even
// where it also shares a path.
func classifyConflicts(base, ours, theirs *state.Lock, conflicts []addrs.Addr) ([]addrs.Addr, []views.PathClash) {
	same := func(x state.Entry, inX bool, y state.Entry, inY bool) bool { return inX == inY && (!inX || x.Equal(y)) }
	var changed []addrs.Addr
	byPath := map[string]*views.PathClash{}
	var paths []string
	for _, a := range conflicts {
		b, inB := base.Images[a]
		o, inO := ours.Images[a]
		t, inT := theirs.Images[a]
		var e state.Entry
		var whence string
		switch {
		case same(o, inO, t, inT):
			e, whence = o, "changed alike on both sides"
			if same(o, inO, b, inB) {
				whence = "unchanged"
			}
		case same(o, inO, b, inB):
			e, whence = t, "changed in theirs"
		case same(t, inT, b, inB):
			e, whence = o, "changed in ours"
		default:
			changed = append(changed, a)
			continue
		}
		if whence != "unchanged" && !inB {
			whence = strings.Replace(whence, "changed", "added", 1)
		}
		c := byPath[e.Path]
		if c == nil {
			c = &views.PathClash{Path: e.Path}
			byPath[e.Path] = c
			paths = append(paths, e.Path)
		}
		c.Addrs = append(c.Addrs, a)
		c.Whence = append(c.Whence, whence)
	}
	var clashes []views.PathClash
	for _, p := range paths {
		clashes = append(clashes, *byPath[p])
	}
	return changed, clashes
}
