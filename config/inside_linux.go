//go:build linux

package config

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// useOpenat2 is false in tests that take the walk openat2 falls back to.
var useOpenat2 = true

// maxLinks is the most symbolic links one name is followed through, as
// the kernel's own limit.
const maxLinks = 40

// fileID is a file's device and inode.
type fileID struct{ dev, ino uint64 }

func statID(st *unix.Stat_t) fileID { return fileID{uint64(st.Dev), uint64(st.Ino)} }

// sourceRoot is the working directory held open, for the files of one
// Load or one fmt: every file named inside it is opened relative to it,
// one component at a time, so that the file read is the file checked.
type sourceRoot struct {
	dir  string
	fd   int // O_PATH of dir, its own links followed: dir is the user's
	id   fileID
	text string // dir with its links resolved, made once a link needs it
}

func openRoot(dir string) (*sourceRoot, error) {
	fd, err := openRetry(unix.AT_FDCWD, dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "stat", Path: dir, Err: err}
	}
	return &sourceRoot{dir: dir, fd: fd, id: statID(&st)}, nil
}

func (r *sourceRoot) close() {
	if r != nil && r.fd >= 0 {
		unix.Close(r.fd)
		r.fd = -1
	}
}

func openRetry(dirfd int, name string, flags int) (int, error) {
	for {
		fd, err := unix.Openat(dirfd, name, flags, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// opened is a file open opened for reading, with the directory that
// holds it (held open: fmt replaces the file there) and its name there.
type opened struct {
	f     *os.File
	dirFd int // O_PATH, or -1 when the file came from openat2 alone
	base  string
}

func (o *opened) close() {
	o.f.Close()
	if o.dirFd >= 0 {
		unix.Close(o.dirFd)
	}
}

// open opens name (relative to r.dir, or absolute) for reading. A name
// inside the directory (relative, not leading out with ..) is opened
// beneath it: with openat2(RESOLVE_BENEATH|RESOLVE_NO_MAGICLINKS) where
// the kernel has it, else (and wherever openat2 refuses, for the reason)
// one component at a time, with no link followed by the kernel: each link
// is read and followed here, and one that leaves the directory refuses
// the file (*LinkOutside). A name outside (absolute, or ../) is walked the
// same way from /, its links followed (the user's own), until the walk
// enters the working directory, by its device and inode, whatever the
// path's text (/proc/self/cwd/…, another link to it): from there the
// inside rules apply. strict (a name a plan file gives) refuses a file
// the walk reaches outside the directory (*NotInside), before it is
// opened. forWrite takes the walk, which knows the directory that holds
// the file. Every other failure is an *os.PathError naming path.
func (r *sourceRoot) open(name string, strict, forWrite bool) (*opened, error) {
	clean := filepath.Clean(name)
	path := clean
	if !filepath.IsAbs(path) {
		path = filepath.Join(r.dir, clean)
	}
	w := &walk{r: r, name: name, path: path, strict: strict}
	if !filepath.IsAbs(clean) && clean != ".." && !strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		if useOpenat2 && !forWrite {
			how := unix.OpenHow{
				Flags:   unix.O_RDONLY | unix.O_NONBLOCK | unix.O_NOCTTY | unix.O_CLOEXEC,
				Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
			}
			for {
				fd, err := unix.Openat2(r.fd, clean, &how)
				if err == unix.EINTR || err == unix.EAGAIN {
					continue
				}
				if err == nil {
					return &opened{f: os.NewFile(uintptr(fd), path), dirFd: -1}, nil
				}
				break // the walk says what is wrong, or follows what openat2 refuses
			}
		}
		fd, err := unix.Dup(r.fd)
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
		w.enter(fd, r.fd, "")
		return w.run(splitPath(clean))
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	fd, err := openRetry(unix.AT_FDCWD, "/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	w.cur, w.curText = fd, "/"
	if w.isRoot(fd) {
		w.enter(fd, fd, "/")
	}
	return w.run(splitPath(abs))
}

// splitPath returns the components of a clean path, or "." for none.
func splitPath(p string) []string {
	var out []string
	for _, c := range strings.Split(p, string(filepath.Separator)) {
		if c != "" && c != "." {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		out = []string{"."}
	}
	return out
}

// walk is one name being opened, one component at a time.
type walk struct {
	r      *sourceRoot
	name   string // as named, for messages
	path   string // name joined to the directory, for errors
	strict bool
	links  int

	cur     int    // the directory reached, owned
	curText string // outside: its absolute path, with no link in it

	// Inside the working directory:
	inside   bool
	rootFd   int    // the working directory: r.fd, or a descriptor cur was
	rootOwn  bool   // rootFd is the walk's to close
	rootText string // its path with no link in it, "" until needed
	named    string // cur relative to the working directory
	fresh    bool   // no link followed inside yet: named is a prefix of name
}

func (w *walk) isRoot(fd int) bool {
	var st unix.Stat_t
	return unix.Fstat(fd, &st) == nil && statID(&st) == w.r.id
}

// enter starts the inside rules at the working directory, held as cur
// (fd); root is the descriptor to return to when a link is followed
// (fd itself, or r.fd), text its path with no link in it ("" when not
// known yet).
func (w *walk) enter(fd, root int, text string) {
	w.cur, w.inside, w.named, w.fresh = fd, true, "", true
	if root == fd {
		d, err := unix.Dup(fd)
		if err == nil {
			root, w.rootOwn = d, true
		} else {
			root = w.r.fd
		}
	}
	w.rootFd = root
	if text != "" {
		w.rootText = text
	}
}

func (w *walk) done() {
	if w.cur >= 0 {
		unix.Close(w.cur)
		w.cur = -1
	}
	if w.rootOwn {
		unix.Close(w.rootFd)
		w.rootOwn = false
	}
}

func (w *walk) fail(err error) (*opened, error) {
	w.done()
	if w.strict && !w.inside {
		return nil, &NotInside{Path: w.name}
	}
	return nil, &os.PathError{Op: "open", Path: w.path, Err: err}
}

// root is the working directory's path with no link in it.
func (w *walk) root() (string, error) {
	if w.rootText == "" {
		if w.r.text == "" {
			t, err := filepath.EvalSymlinks(w.r.dir)
			if err != nil {
				return "", err
			}
			if t, err = filepath.Abs(t); err != nil {
				return "", err
			}
			w.r.text = t
		}
		w.rootText = w.r.text
	}
	return w.rootText, nil
}

func (w *walk) run(comps []string) (*opened, error) {
	for i := 0; i < len(comps); i++ {
		c, last := comps[i], i == len(comps)-1
		if !last {
			fd, err := openRetry(w.cur, c, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC)
			if err == unix.ENOTDIR || err == unix.ELOOP {
				if next, ok, err := w.followAt(comps, i); err != nil {
					return nil, err
				} else if ok {
					comps, i = next, -1
					continue
				}
			}
			if err != nil {
				return w.fail(err)
			}
			unix.Close(w.cur)
			w.cur = fd
			if w.inside {
				w.named = filepath.Join(w.named, c)
				continue
			}
			w.curText = filepath.Join(w.curText, c)
			if w.isRoot(fd) {
				w.enter(fd, fd, w.curText)
			}
			continue
		}
		if w.strict && !w.inside {
			// Before anything outside is opened, the file included.
			return w.fail(nil)
		}
		fd, err := openRetry(w.cur, c, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC)
		if err == unix.ELOOP {
			if next, ok, err := w.followAt(comps, i); err != nil {
				return nil, err
			} else if ok {
				comps, i = next, -1
				continue
			}
		}
		if err != nil {
			return w.fail(err)
		}
		o := &opened{f: os.NewFile(uintptr(fd), w.path), dirFd: w.cur, base: c}
		w.cur = -1
		w.done()
		return o, nil
	}
	return w.fail(unix.ENOENT) // not reached: comps is never empty
}

// followAt follows comps[i] when it is a symbolic link (ok), returning
// the components to walk from the start; a failure to follow it ends the
// walk (done). ok is false when comps[i] is not a link, for the open's
// own error to say what it is.
func (w *walk) followAt(comps []string, i int) (next []string, ok bool, err error) {
	target, lerr := readlinkat(w.cur, comps[i])
	if lerr != nil {
		return nil, false, nil
	}
	if next, err = w.follow(comps, i, target); err != nil {
		w.done()
		return nil, false, err
	}
	return next, true, nil
}

// follow follows the link comps[i], whose text is target, from the
// directory reached, and returns the components to walk from the start
// (w.cur is reset to it): from / outside, from the working directory
// inside, where a link that leaves it refuses the file.
func (w *walk) follow(comps []string, i int, target string) ([]string, error) {
	w.links++
	if w.links > maxLinks {
		return nil, &os.PathError{Op: "open", Path: w.path, Err: unix.ELOOP}
	}
	rest := comps[i+1:]
	if !w.inside {
		resolved := target
		if !filepath.IsAbs(target) {
			resolved = filepath.Join(w.curText, target)
		}
		fd, err := openRetry(unix.AT_FDCWD, "/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC)
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: w.path, Err: err}
		}
		unix.Close(w.cur)
		w.cur, w.curText = fd, "/"
		if w.isRoot(fd) {
			w.enter(fd, fd, "/")
		}
		return append(splitPath(filepath.Clean(resolved)), rest...), nil
	}
	shown := filepath.Join(w.named, comps[i])
	if w.fresh && i == len(comps)-1 {
		shown = w.name
	}
	root, err := w.root()
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: w.path, Err: err}
	}
	resolved := target
	if !filepath.IsAbs(target) {
		resolved = filepath.Join(root, w.named, target)
	}
	resolved = filepath.Clean(resolved)
	if !within(root, resolved) {
		return nil, &LinkOutside{Path: w.name, Link: shown, Target: target,
			Resolved: filepath.Join(append([]string{resolved}, rest...)...)}
	}
	rel, err := filepath.Rel(root, resolved)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: w.path, Err: err}
	}
	fd, err := unix.Dup(w.rootFd)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: w.path, Err: err}
	}
	unix.Close(w.cur)
	w.cur, w.named, w.fresh = fd, "", false
	return append(splitPath(rel), rest...), nil
}

// readlinkat returns the text of the link name in dirfd.
func readlinkat(dirfd int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dirfd, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
		if size > 1<<16 {
			return "", unix.ENAMETOOLONG
		}
	}
}

// replace writes data over the file o was opened as, atomically, in the
// directory that holds it (held open since: wherever its path leads now),
// keeping its permissions. It refuses when the name there no longer names
// the file that was read.
func (o *opened) replace(data []byte, shown string) error {
	if o.dirFd < 0 {
		return fmt.Errorf("write %s: the directory that holds it is not known", shown)
	}
	var was, now unix.Stat_t
	if err := unix.Fstat(int(o.f.Fd()), &was); err != nil {
		return &os.PathError{Op: "stat", Path: shown, Err: err}
	}
	if err := unix.Fstatat(o.dirFd, o.base, &now, unix.AT_SYMLINK_NOFOLLOW); err != nil || statID(&now) != statID(&was) {
		return errChanged
	}
	var fd int
	var tmp string
	for range 10 {
		var b [8]byte
		rand.Read(b[:])
		tmp = ".pixform-tmp-fmt-" + hex.EncodeToString(b[:])
		var err error
		fd, err = unix.Openat(o.dirFd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err == nil {
			break
		}
		if err != unix.EEXIST {
			return &os.PathError{Op: "create", Path: shown, Err: err}
		}
		fd = -1
	}
	if fd < 0 {
		return &os.PathError{Op: "create", Path: shown, Err: unix.EEXIST}
	}
	f := os.NewFile(uintptr(fd), tmp)
	abort := func(err error) error {
		f.Close()
		unix.Unlinkat(o.dirFd, tmp, 0)
		return &os.PathError{Op: "write", Path: shown, Err: err}
	}
	if _, err := f.Write(data); err != nil {
		return abort(err)
	}
	if err := unix.Fchmod(fd, was.Mode&0o7777); err != nil {
		return abort(err)
	}
	if err := f.Sync(); err != nil {
		return abort(err)
	}
	// Checked again just before: a file put at the name since is kept.
	if err := unix.Fstatat(o.dirFd, o.base, &now, unix.AT_SYMLINK_NOFOLLOW); err != nil || statID(&now) != statID(&was) {
		f.Close()
		unix.Unlinkat(o.dirFd, tmp, 0)
		return errChanged
	}
	if err := unix.Renameat(o.dirFd, tmp, o.dirFd, o.base); err != nil {
		return abort(err)
	}
	f.Close()
	if d, err := openRetry(o.dirFd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC); err == nil {
		unix.Fsync(d)
		unix.Close(d)
	}
	return nil
}
