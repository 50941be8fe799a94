package config

import (
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// dirState is what the file system says about one slash-separated path
// relative to the working directory.
type dirState struct {
	exists bool
	// link and target, when escapes: the symbolic link that leads out, and
	// where it leads.
	escapes      bool
	link, target string
}

// symlinkEscape reports whether the clean relative path p resolves, through
// a symbolic link in its existing prefix or at p itself, outside the
// working directory. self is l.stat(p). Directory results are cached: most
// images share a few directories.
func (l *loader) symlinkEscape(p string, self dirState) (link, target string, escapes bool) {
	parent := l.dirState(path.Dir(p))
	if parent.escapes {
		return parent.link, parent.target, true
	}
	if !parent.exists {
		return "", "", false
	}
	return self.link, self.target, self.escapes
}

// dirState returns, cached, the state of directory rel.
func (l *loader) dirState(rel string) dirState {
	if rel == "." || rel == "" {
		return dirState{exists: true}
	}
	if s, ok := l.dirCache[rel]; ok {
		return s
	}
	s := l.dirState(path.Dir(rel))
	if s.exists && !s.escapes {
		s = l.stat(rel)
	} else {
		s.exists = false
	}
	l.dirCache[rel] = s
	return s
}

// stat examines rel, which is meaningful when its parent exists inside the
// working directory. It is safe for concurrent use once realRoot has been
// called.
func (l *loader) stat(rel string) dirState {
	full := filepath.Join(l.dir, filepath.FromSlash(rel))
	fi, err := os.Lstat(full)
	if err != nil {
		return dirState{} // missing: nothing to escape through
	}
	if fi.Mode()&os.ModeSymlink == 0 {
		return dirState{exists: true}
	}
	root := l.realRoot()
	real, err := filepath.EvalSymlinks(full)
	if err != nil {
		// A dangling or looping link: a write through it would land
		// wherever it points, which cannot be checked.
		target, _ := os.Readlink(full)
		return dirState{exists: true, escapes: true, link: rel, target: "an unresolvable target " + strconv.Quote(target)}
	}
	if abs, err := filepath.Abs(real); err == nil {
		real = abs
	}
	if root == "" || !within(root, real) {
		return dirState{exists: true, escapes: true, link: rel, target: real}
	}
	return dirState{exists: true}
}

// realRoot returns the working directory, absolute, with symbolic links
// resolved; "" when that fails.
func (l *loader) realRoot() string {
	if !l.rootDone {
		l.rootDone = true
		if r, err := filepath.EvalSymlinks(l.dir); err == nil {
			if abs, err := filepath.Abs(r); err == nil {
				l.root = abs
			}
		}
	}
	return l.root
}

// within reports whether p is root or inside it; both are absolute.
func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	if err != nil || filepath.IsAbs(rel) {
		return false
	}
	return rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
