package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/internal/safepath"
	"github.com/pixform/pixform/state"
	"github.com/pixform/pixform/views"
)

// outKind is what a command writes at a file named on its command line,
// and how a file of that kind is told from any other.
type outKind struct {
	what string // "pixform plan file"
	noun string // "plan"
	// mark is found in the first markBytes of every file of the kind
	// pixform writes; with first, it is the file's first token after
	// its opening byte and spaces.
	mark  []byte
	first bool
}

var (
	planOut    = outKind{"pixform plan file", "plan", []byte(`"pixform_plan_format"`), true}
	galleryOut = outKind{"pixform gallery page", "page", []byte("pixform gallery</title>"), false}
)

// has reports whether head, the start of a file, is of kind k.
func (k outKind) has(head []byte) bool {
	if !k.first {
		return bytes.Contains(head, k.mark)
	}
	rest, ok := bytes.CutPrefix(bytes.TrimLeft(head, " \t\r\n"), []byte("{"))
	return ok && bytes.HasPrefix(bytes.TrimLeft(rest, " \t\r\n"), k.mark)
}

// resolved is p with the symbolic links of its deepest existing
// directory resolved: the file p names, or would name once its missing
// directories are made.
func resolved(p string) string {
	dir, rest := filepath.Dir(p), filepath.Base(p)
	for {
		if d, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(d, rest)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return p
		}
		rest = filepath.Join(filepath.Base(dir), rest)
		dir = parent
	}
}

// markBytes is how much of a file outTarget reads for its kind's mark.
const markBytes = 8 << 10

// outTarget checks that a command may write a file of kind k at target,
// named on the command line as name (flag is the flag as the user gave
// it): never pixform's own files (the lockfile, a configuration, anything
// in .pixform), nor a file of another kind (a recorded image, a file of
// the user's): only a new or empty file, or one of k's that pixform
// wrote, is replaced. Then replaceable. dir is the working directory.
func outTarget(dir, target, name, flag, other string, k outKind) error {
	refuse := func(why, hint string) error {
		return views.WithHint(fmt.Errorf("%s: %s %s", flag, name, why), hint)
	}
	base := filepath.Base(target)
	// Compared as resolved: a link to .pixform (or to the directory)
	// names the same files.
	at, root := resolved(target), dir
	if r, err := filepath.EvalSymlinks(dir); err == nil {
		root = r
	}
	if rel, err := filepath.Rel(root, at); err == nil && filepath.IsLocal(rel) {
		// pixform's own files as the path check names them: case-folded,
		// as a macOS or Windows checkout compares names.
		var pe *safepath.Error
		if rel := filepath.ToSlash(rel); errors.As(safepath.Check(rel), &pe) && pe.Reason == safepath.Reserved {
			if safepath.Key(rel) == safepath.Key(state.LockFileName) {
				return refuse("is the lockfile: writing there would replace it", "name a new file")
			}
			return refuse("is in "+state.WorkDirName+", pixform's own directory", "name a file outside it")
		}
	}
	if strings.HasSuffix(base, config.ConfigSuffix) || strings.HasSuffix(base, config.VarsSuffix) {
		return refuse("is a configuration file: its name ends in "+config.ConfigSuffix+" or "+config.VarsSuffix+", which pixform reads as one", "name a new file of another name")
	}
	if err := replaceable(target, flag, other); err != nil {
		return err
	}
	f, err := os.Open(target)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		// Not known to be a file of k's: not replaced.
		return views.WithHint(fmt.Errorf("%s: %s cannot be read to tell whether it is a %s: %w", flag, name, k.what, err), "name a new file, or delete "+name+" first if you no longer need it")
	}
	defer f.Close()
	head, err := io.ReadAll(io.LimitReader(f, markBytes))
	if err != nil {
		return fmt.Errorf("%s: %w", flag, err)
	}
	if len(head) == 0 || k.has(head) {
		return nil
	}
	size := int64(len(head))
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	return refuse(fmt.Sprintf("holds a file that is not a %s (%d bytes): writing the %s there would replace it", k.what, size, k.noun),
		"name a new file, or delete "+name+" first if you no longer need it")
}

// replaceable checks that a file named on the command line (flag, as the
// user gave it) may be written at target. Such files are written whole
// and renamed over what was there, which would replace a symbolic link, a
// device or a named pipe with a file of their own (run as root, the
// gallery's -o=/dev/full replaced the device): anything there but a
// regular file is refused. other, when not empty, is the hint's other way.
func replaceable(target, flag, other string) error {
	fi, err := os.Lstat(target)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("%s: %w", flag, err)
	}
	or := ""
	if other != "" {
		or = ", or " + other
	}
	switch m := fi.Mode(); {
	case m.IsRegular():
		return nil
	case m.IsDir():
		return views.WithHint(errors.New(flag+" is a directory"), "name a file in it"+or)
	case m&fs.ModeSymlink != 0:
		return views.WithHint(errors.New(flag+" is a symbolic link: writing there would replace the link, not the file it names"),
			"name the file itself"+or)
	default:
		return views.WithHint(fmt.Errorf("%s is not a regular file (%s): writing there would replace it", flag, config.FileKind(m)),
			"name a regular file"+or)
	}
}
