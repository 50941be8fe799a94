package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// LinkOutside is a configuration or variable file named inside the
// working directory that a symbolic link leads out of it: the file itself,
// or one of the directories on its way. A pull request can plant such a
// link (a *.pix.hcl to /proc/self/environ, a directory to /etc), so the
// file is refused before it is read.
type LinkOutside struct {
	// Path is the file as it was named.
	Path string
	// Link is the symbolic link on the way that leaves the directory, as
	// named: Path itself, or one of its directories.
	Link string
	// Target is what Link holds (its text, as ls -l shows it), or "a
	// file that has no name" for a link that opens but cannot be followed
	// to a name (/proc/self/fd/N of a deleted file).
	Target string
	// Resolved is the file the path leads to with every link followed,
	// or "" when it has no name.
	Resolved string
}

func (e *LinkOutside) Error() string {
	return e.What() + ", outside the working directory"
}

// What says which link leads where: "a.pix.hcl is a symbolic link to X",
// or "env/v.hcl leads through env, a symbolic link to X".
func (e *LinkOutside) What() string {
	if e.Link == e.Path {
		return fmt.Sprintf("%s is a symbolic link to %s", e.Path, e.Target)
	}
	return fmt.Sprintf("%s leads through %s, a symbolic link to %s", e.Path, e.Link, e.Target)
}

// ResolveInside returns the file that name (relative to dir, or absolute)
// leads to, with every symbolic link on its way followed, component by
// component, and refuses it with a *LinkOutside when a link leaves dir
// (dir itself may be a link: it is the user's). A name the command line
// gives outside dir (-var-file=/etc/pixform/prod.hcl, ../shared/v.hcl) is
// the user's own argument, not something from the repository: it is
// returned as it is. A name that cannot be looked at (missing, not
// readable) is returned as it is too, for the read to say what is wrong.
//
// What is returned is the file to read: name (joined to dir) when no link
// is on its way, else a path with no link in it, so that what is read is
// what was checked ("env/../v.hcl" through a linked
// env is dir/v.hcl, as checked, never the link target's parent).
//
// A file directly in dir costs one lstat, as before; a deeper name, one
// lstat per component.
func ResolveInside(dir, name string) (string, error) {
	// Cleaned as the check below sees it: "env/../v.hcl" is dir/v.hcl,
	// never the parent of what a link env leads to.
	full := filepath.Clean(name)
	if !filepath.IsAbs(full) {
		full = filepath.Join(dir, name)
	}
	abs, err := filepath.Abs(full)
	if err != nil {
		return full, nil
	}
	base, err := filepath.Abs(dir)
	if err != nil {
		return full, nil
	}
	root := "" // dir with its links resolved, made once it is needed
	resolveRoot := func() bool {
		if root == "" {
			r, err := filepath.EvalSymlinks(dir)
			if err != nil {
				return false
			}
			root = r
		}
		return true
	}
	if !within(base, abs) {
		if !resolveRoot() || !within(root, abs) {
			return full, nil // outside: the user's own argument
		}
		base = root
	}
	rel, err := filepath.Rel(base, abs)
	if err != nil || rel == "." {
		return full, nil
	}
	cur, named, linked := base, "", false
	parts := strings.Split(rel, string(filepath.Separator))
	for i, part := range parts {
		cur = filepath.Join(cur, part)
		named = filepath.Join(named, part)
		fi, err := os.Lstat(cur)
		if err != nil {
			if linked {
				// Never the unresolved name: the kernel would
				// follow its links again, unchecked.
				return "", &os.PathError{Op: "lstat", Path: cur, Err: err}
			}
			return full, nil // missing or unreadable: the read says so
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			continue
		}
		if !resolveRoot() {
			return full, nil
		}
		shown := named
		if i == len(parts)-1 {
			shown = name
		}
		target, err := filepath.EvalSymlinks(cur)
		if err != nil {
			if _, serr := os.Stat(cur); serr != nil {
				return full, nil // dangling: the read says so
			}
			// It opens, but cannot be followed to a name: not known
			// to stay inside.
			return "", &LinkOutside{Path: name, Link: shown, Target: "a file that has no name"}
		}
		if !within(root, target) {
			text, _ := os.Readlink(cur)
			rest := filepath.Join(append([]string{target}, parts[i+1:]...)...)
			return "", &LinkOutside{Path: name, Link: shown, Target: text, Resolved: rest}
		}
		cur, linked = target, true
	}
	if !linked {
		return full, nil // as named, for the messages that name it
	}
	return cur, nil
}

// within reports whether path is dir or below it; both absolute and clean.
func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// SourceFile is a configuration or variable file opened by OpenSource:
// Bytes were read from the file that was checked, and Replace writes over
// that same file.
type SourceFile struct {
	Bytes []byte
	o     *opened
	shown string
}

// OpenSource reads the configuration or variable file name (relative to
// dir, or absolute) as Load reads it (every link on its way followed here,
// one leading out of dir refusing it: a *LinkOutside; a file it cannot
// read: a *FileError), and keeps the directory that holds it open for
// Replace. Close it.
func OpenSource(dir, name string) (*SourceFile, error) {
	r, err := openRoot(dir)
	if err != nil {
		return nil, cannotRead(name, err)
	}
	defer r.close()
	o, src, err := r.read(name, false, true)
	if err != nil {
		return nil, err
	}
	return &SourceFile{Bytes: src, o: o, shown: name}, nil
}

// Replace writes data over the file, atomically, in the directory that
// holds it, keeping its permissions; it refuses when the file's name
// there names another file since it was read.
func (s *SourceFile) Replace(data []byte) error {
	err := s.o.replace(data, s.shown)
	if errors.Is(err, errChanged) {
		return fmt.Errorf("%s was not written: it changed since it was read (replaced, moved or removed); run the command again", s.shown)
	}
	return err
}

// Close closes the file and its directory.
func (s *SourceFile) Close() { s.o.close() }

// CheckPlanVarFiles refuses, before any of them is read, a variable file
// a saved plan names that is not inside dir: outside it (*NotInside), or
// through a link that leads out of it (*LinkOutside). A plan file can come
// from anyone (a CI artifact): what it names is read only inside dir.
func CheckPlanVarFiles(dir string, names []string) error {
	if len(names) == 0 {
		return nil
	}
	r, err := openRoot(dir)
	if err != nil {
		return cannotRead(dir, err)
	}
	defer r.close()
	for _, name := range names {
		o, err := r.open(name, true, false)
		var lo *LinkOutside
		var ni *NotInside
		if errors.As(err, &lo) || errors.As(err, &ni) {
			return err
		}
		if err == nil {
			o.close()
		}
		// A file missing or unreadable is said so by Load.
	}
	return nil
}

// read opens name through r (open) and reads it (readOpened); o is
// returned open when keep, else closed.
func (r *sourceRoot) read(name string, strict, keep bool) (*opened, []byte, error) {
	path := name
	if !filepath.IsAbs(path) {
		path = filepath.Join(r.dir, name)
	}
	o, err := r.open(name, strict, keep)
	if err != nil {
		var lo *LinkOutside
		var ni *NotInside
		if errors.As(err, &lo) || errors.As(err, &ni) {
			return nil, nil, err
		}
		return nil, nil, cannotRead(path, err)
	}
	src, err := readOpened(path, o.f)
	if err != nil || !keep {
		o.close()
		return nil, src, err
	}
	return o, src, nil
}

// Suggested is the file the link leads to, for a message to suggest
// naming it instead when it is the user's, or "" when there is none to
// suggest: it has no name, or it is under /proc, /dev or /sys, the
// system's files, never a configuration (/proc/<pid>/environ holds the
// token). Its links are resolved, so that the suggestion names the file.
func (e *LinkOutside) Suggested() string {
	if e.Resolved == "" {
		return ""
	}
	p := e.Resolved
	if r, err := filepath.EvalSymlinks(p); err == nil {
		p = r
	}
	for _, sys := range []string{"/proc", "/dev", "/sys"} {
		if within(sys, p) || within(sys, e.Resolved) {
			return ""
		}
	}
	return p
}
