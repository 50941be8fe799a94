package config

import (
	"errors"
	"fmt"
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

// NotInside is a variable file that a saved plan names outside the
// working directory: a plan file can come from anyone (a CI artifact), so
// what it names is read only inside the directory.
type NotInside struct {
	Path string
}

func (e *NotInside) Error() string {
	return e.Path + " is outside the working directory"
}

// errChanged is a file's replacement refused: its name names another
// file since it was read.
var errChanged = errors.New("it changed since it was read")

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
