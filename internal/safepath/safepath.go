package safepath

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Names pixform keeps for itself in the working directory.
const (
	workDir  = ".pixform"
	lockFile = "pixform.lock.json"
)

// Reason is what makes a path unsafe.
type Reason int

// The reasons, in the order Check tests them.
const (
	Empty      Reason = iota + 1 // "" or "."
	NUL                          // holds a NUL byte
	Control                      // holds another control character (Unicode Cc), a bidirectional control, or invalid UTF-8
	Backslash                    // holds a backslash, a separator on Windows
	Absolute                     // starts with / or a drive letter
	NotClean                     // differs from path.Clean of itself
	Escapes                      // .. or under ../
	Reserved                     // .pixform, under .pixform/, or the lockfile (any case)
	VCS                          // a component, at any depth, is .git, .hg or .svn (any case)
	WinName                      // on Windows only: a stream, a device, a short name, a trailing dot (winNameProblem)
	Symlink                      // a component on disk is a symbolic link
	Unexamined                   // a component could not be examined (Err says why)
)

// Error is an unsafe path. Its message says what is wrong, not what to do:
// callers know whether the path came from a configuration or a lockfile.
type Error struct {
	Path   string
	Reason Reason
	// Link is, for Symlink, the slash path of the component that is a
	// link, and Target what it points to (as read, maybe relative).
	Link, Target string
	// Err is, for Unexamined, the lstat error.
	Err error
}

// Unwrap returns the lstat error of an Unexamined path.
func (e *Error) Unwrap() error { return e.Err }

func (e *Error) Error() string {
	q := strconv.Quote(e.Path)
	switch e.Reason {
	case Empty:
		return "path " + q + " names no file"
	case NUL:
		return "path " + q + " contains a NUL byte"
	case Control:
		return "path " + q + " contains a control character (or one that reorders text, or invalid UTF-8), which no file name needs and a terminal would act on"
	case Backslash:
		return "path " + q + " contains a backslash (separate directories with /)"
	case Absolute:
		return "path " + q + " is absolute; paths are relative to the working directory"
	case NotClean:
		return fmt.Sprintf("path %s is not clean (want %q)", q, path.Clean(e.Path))
	case Escapes:
		return "path " + q + " leads outside the working directory"
	case Reserved:
		return "path " + q + " is one of pixform's own files (" + workDir + "/ or " + lockFile + ")"
	case VCS:
		return "path " + q + " is inside version control's own data (.git, .hg or .svn)"
	case Symlink:
		if e.Link == e.Path {
			return fmt.Sprintf("path %s is a symbolic link (to %q)", q, e.Target)
		}
		return fmt.Sprintf("path %s goes through the symbolic link %q (to %q)", q, e.Link, e.Target)
	case Unexamined:
		return fmt.Sprintf("path %s cannot be checked: %v", q, e.Err)
	case WinName:
		return "path " + q + " " + winNameProblem(e.Path)
	}
	return "path " + q + " is unsafe"
}

// Check reports, lexically, whether p is a path pixform may touch: not
// empty, no NUL or backslash, relative (no leading / and no drive letter),
// clean, not .. or under it, not pixform's own (.pixform, anything under
// it, or the lockfile), and with no component that is a version-control
// directory (.git, which may also be a file in a worktree or submodule,
// .hg or .svn, at any depth: a nested checkout's is as fragile). Names are
// compared as the file systems of macOS and Windows compare them, case
// folded and more (see alias), since those map .PIXFORM onto .pixform. On
// Windows it also refuses the names that Windows does not take for a
// plain file (winNameProblem: a.png:x, NUL.png, a.png., GIT~1). It
// returns nil or an *Error.
func Check(p string) error {
	r := reason(p)
	if r == 0 {
		return nil
	}
	return &Error{Path: p, Reason: r}
}

func reason(p string) Reason {
	switch {
	case p == "" || p == ".":
		return Empty
	case strings.IndexByte(p, 0) >= 0:
		return NUL
	case hasControl(p):
		return Control
	case strings.IndexByte(p, '\\') >= 0:
		return Backslash
	case p[0] == '/' || len(p) >= 2 && p[1] == ':':
		return Absolute
	case plainRel(p):
		// Clean, and nothing on the way is "..".
	case path.Clean(p) != p:
		return NotClean
	case p == ".." || strings.HasPrefix(p, "../"):
		return Escapes
	}
	first, _, _ := strings.Cut(p, "/")
	if k := alias(first); k == workDir || k == lockFile && first == p {
		return Reserved
	}
	for c := range strings.SplitSeq(p, "/") {
		switch alias(c) {
		case ".git", ".hg", ".svn":
			return VCS
		}
	}
	if winNames && winNameProblem(p) != "" {
		return WinName
	}
	return 0
}

// hasControl reports whether p holds a control character (Unicode Cc: an
// escape sequence, a line break), a bidirectional control (a right-to-left
// override, which shows a name reordered: IsBidiControl) or invalid UTF-8.
// Other formatting characters stay allowed: a zero-width joiner is part
// of an emoji, a zero-width non-joiner of Persian words. ASCII, which most
// paths are, is checked a byte at a time.
func hasControl(p string) bool {
	for i := 0; i < len(p); i++ {
		b := p[i]
		if b < 0x20 || b == 0x7f {
			return true
		}
		if b >= utf8.RuneSelf {
			return !utf8.ValidString(p[i:]) || strings.ContainsFunc(p[i:], func(r rune) bool {
				return unicode.Is(unicode.Cc, r) || IsBidiControl(r)
			})
		}
	}
	return false
}

// IsBidiControl reports whether r is one of Unicode's bidirectional
// controls (the Bidi_Control property): the marks, embeddings, overrides
// and isolates that reorder how text is shown ("Trojan Source").
func IsBidiControl(r rune) bool {
	return r >= 0x061c && unicode.Is(unicode.Bidi_Control, r)
}

// Visible replaces each control character of s (line breaks included),
// bidirectional control or invalid UTF-8 by its Go escape: for text from
// outside (a lockfile, a store's lock object) in a line a terminal shows,
// where a raw one would drive the terminal or forge a line.
func Visible(s string) string {
	return EscapeRunes(s, func(r rune) bool { return unicode.Is(unicode.Cc, r) || IsBidiControl(r) || r == utf8.RuneError })
}

// EscapeRunes replaces each rune of s that hidden reports by its Go
// escape.
func EscapeRunes(s string, hidden func(rune) bool) string {
	if !strings.ContainsFunc(s, hidden) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if hidden(r) {
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// plainRel reports whether p, which does not start with a slash, has no
// empty, "." or ".." component: path.Clean then leaves it as it is (and it
// does not escape), without the cost of cleaning it.
func plainRel(p string) bool {
	start := 0
	for i := 0; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' {
			continue
		}
		switch p[start:i] {
		case "", ".", "..":
			return false
		}
		start = i + 1
	}
	return true
}

// alias returns the name that the path component c stands for on the file
// systems of macOS and Windows, for comparison with a reserved name: folded
// as Key folds, without the code points HFS+ ignores, and without the
// trailing dots and spaces Windows drops (.GIT, .g\u200cit and ".git."
// all open .git there). Git refuses the same aliases of .git.
func alias(c string) string {
	for i := 0; i < len(c); i++ {
		if c[i] >= utf8.RuneSelf {
			c = strings.Map(func(r rune) rune {
				if hfsIgnorable(r) {
					return -1
				}
				return r
			}, c)
			break
		}
	}
	return Key(strings.TrimRight(c, ". "))
}

// hfsIgnorable reports the code points that HFS+ leaves out of file names
// when it compares them.
func hfsIgnorable(r rune) bool {
	return r >= 0x200c && r <= 0x200f || r >= 0x202a && r <= 0x202e || r >= 0x206a && r <= 0x206f || r == 0xfeff
}

// Key is the form in which two paths are compared: two paths with the same
// Key are the same file on a case-insensitive file system (macOS and
// Windows checkouts), so they may not name two images. It folds case as
// strings.EqualFold does: Key(a) == Key(b) exactly when EqualFold(a, b).
func Key(p string) string {
	for i := 0; i < len(p); i++ {
		if c := p[i]; c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
			return fold(p)
		}
	}
	return p
}

func fold(p string) string {
	var b strings.Builder
	b.Grow(len(p))
	for _, r := range p {
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

// foldRune returns one representative of r's simple case-folding orbit:
// its ASCII lower-case member when it has an ASCII member (so that the
// ASCII fast path of Key agrees), else its smallest.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	best, ascii := r, rune(-1)
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < best {
			best = f
		}
		if f < utf8.RuneSelf && (ascii < 0 || 'a' <= f && f <= 'z') {
			ascii = f
		}
	}
	if ascii >= 0 {
		return foldRune(ascii)
	}
	return best
}

// Disk checks paths, which Check accepts, against the file system under a
// root: no component that exists may be a symbolic link, even one that
// stays inside the root (two paths could then name one file). It memoizes
// the directories it has examined, so checking many paths costs about one
// lstat per directory and one per path. A Disk is not safe for concurrent
// use; Leaf is.
type Disk struct {
	root string
	dirs map[string]dirResult
}

type dirResult struct {
	exists bool
	err    *Error
}

// NewDisk returns a Disk for the working directory root.
func NewDisk(root string) *Disk {
	return &Disk{root: root, dirs: map[string]dirResult{}}
}

// Check reports whether p, accepted by the package-level Check, may be
// touched: it returns an *Error when a component of p on disk is a
// symbolic link (or cannot be examined), and whether p exists.
func (d *Disk) Check(p string) (exists bool, err error) {
	if err := Check(p); err != nil {
		return false, err
	}
	if ok, err := d.Dir(path.Dir(p)); err != nil || !ok {
		return false, relabel(err, p)
	}
	return Leaf(d.root, p)
}

// Dir reports whether directory dir (slash, relative, "." for the root)
// exists with no symbolic link on the way; an *Error names the first link.
func (d *Disk) Dir(dir string) (exists bool, err error) {
	if dir == "." || dir == "" {
		return true, nil
	}
	if r, ok := d.dirs[dir]; ok {
		if r.err != nil {
			return false, r.err
		}
		return r.exists, nil
	}
	var r dirResult
	parent, err := d.Dir(path.Dir(dir))
	switch {
	case err != nil:
		r.err = err.(*Error)
	case parent:
		var leafErr error
		r.exists, leafErr = Leaf(d.root, dir)
		if leafErr != nil {
			r.err = leafErr.(*Error)
		}
	}
	d.dirs[dir] = r
	if r.err != nil {
		return false, r.err
	}
	return r.exists, nil
}

// Leaf lstats the last component of p under root, whose directory has been
// checked: a symbolic link there is an *Error. Missing is not an error;
// another lstat failure is an *Error too, since what cannot be examined
// cannot be trusted.
func Leaf(root, p string) (exists bool, err error) {
	return (*Stats)(nil).Leaf(root, p)
}

// relabel returns err, an *Error about a directory of p, as an error about p.
func relabel(err error, p string) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	c := *e
	c.Path = p
	return &c
}
