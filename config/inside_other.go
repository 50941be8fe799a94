//go:build !linux

package config

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
)

// Where there is no openat2 nor the Linux descriptors the walk relies on,
// a file is checked by its path (resolveInside) and then opened by the
// path it resolves to, and a name that cannot be resolved is refused.

type sourceRoot struct{ dir string }

func openRoot(dir string) (*sourceRoot, error) { return &sourceRoot{dir: dir}, nil }

func (r *sourceRoot) close() {}

type opened struct {
	f    *os.File
	path string
}

func (o *opened) close() { o.f.Close() }

func (r *sourceRoot) open(name string, strict, forWrite bool) (*opened, error) {
	if strict {
		clean := filepath.Clean(name)
		if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
			abs, err := filepath.Abs(clean)
			base, berr := filepath.Abs(r.dir)
			if err != nil || berr != nil || !within(base, abs) {
				return nil, &NotInside{Path: name}
			}
		}
	}
	open, err := resolveInside(r.dir, name)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(open)
	if err != nil {
		return nil, err
	}
	return &opened{f: f, path: open}, nil
}

func (o *opened) replace(data []byte, shown string) error {
	was, err := o.f.Stat()
	if err != nil {
		return err
	}
	if now, err := os.Lstat(o.path); err != nil || !os.SameFile(was, now) {
		return errChanged
	}
	var b [8]byte
	rand.Read(b[:])
	tmp := filepath.Join(filepath.Dir(o.path), ".pixform-tmp-fmt-"+hex.EncodeToString(b[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, was.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	f.Close()
	// Windows renames over no file that is open without sharing its
	// deletion, which os.Open never shares: o's own handle goes first.
	o.f.Close()
	if err := os.Rename(tmp, o.path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// resolveInside returns the file that name (relative to dir, or absolute)
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
func resolveInside(dir, name string) (string, error) {
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
