package state

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/pixform/pixform/internal/regfile"
)

// WorkDirName is pixform's local, rebuildable directory inside the working
// directory. It is never committed: EnsureWorkDir writes a .gitignore in it.
const WorkDirName = ".pixform"

// gitignoreBody ignores everything in .pixform/, itself included.
const gitignoreBody = "*\n"

// WorkDirError says that .pixform, or a directory pixform uses inside it,
// is not a real directory of the working directory (a symbolic link, a
// file): pixform refuses to read or write through it, since a link
// committed in a pull request would send its writes elsewhere.
type WorkDirError struct {
	Path string // the offending path
	What string // "a symbolic link to ../x", "not a directory"
}

func (e *WorkDirError) Error() string {
	return fmt.Sprintf("%s is %s, not a directory: pixform will not read or write through it; remove it (rm %s): pixform keeps only rebuildable files there", e.Path, e.What, e.Path)
}

// checkRealDir reports whether p exists, and fails with a *WorkDirError
// when something other than a directory is there. It never follows a
// symbolic link at p itself.
func checkRealDir(p string) (exists bool, err error) {
	fi, err := os.Lstat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("check %s: %w", p, err)
	case fi.Mode()&fs.ModeSymlink != 0:
		to, _ := os.Readlink(p)
		return true, &WorkDirError{Path: p, What: fmt.Sprintf("a symbolic link (to %s)", to)}
	case !fi.IsDir():
		return true, &WorkDirError{Path: p, What: "a file"}
	}
	return true, nil
}

// workDir returns dir/.pixform for reading, whether it exists, and an error
// when it is not a real directory. Every reader of .pixform goes through
// it (or through EnsureWorkDir to write).
func workDir(dir string) (wd string, exists bool, err error) {
	wd = filepath.Join(dir, WorkDirName)
	exists, err = checkRealDir(wd)
	return wd, exists, err
}

// workSubDir returns dir/.pixform/name for reading, as workDir does.
func workSubDir(dir, name string) (string, bool, error) {
	wd, exists, err := workDir(dir)
	if err != nil || !exists {
		return filepath.Join(wd, name), false, err
	}
	p := filepath.Join(wd, name)
	exists, err = checkRealDir(p)
	return p, exists, err
}

// mkRealDir creates the directory p (its parent exists) unless it is there,
// and checks that it is a real directory, not a link.
func mkRealDir(p string) error {
	if err := os.Mkdir(p, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create pixform work directory %s: %w (check the working directory's permissions)", p, err)
	}
	_, err := checkRealDir(p)
	return err
}

// EnsureWorkDir creates dir/.pixform/ with a .gitignore that ignores all of
// it, and returns its path. It is idempotent and cheap when both exist. It
// refuses a .pixform that is a symbolic link or a file (*WorkDirError).
func EnsureWorkDir(dir string) (string, error) {
	wd := filepath.Join(dir, WorkDirName)
	if err := mkRealDir(wd); err != nil {
		return "", err
	}
	gi := filepath.Join(wd, ".gitignore")
	cur, err := readWorkFile(gi)
	if err == nil && string(cur) == gitignoreBody {
		return wd, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, syscall.ELOOP) {
		return "", fmt.Errorf("read %s: %w", gi, err)
	}
	// The rename replaces whatever is there, a link included, and never
	// writes through it.
	if err := WriteFileAtomic(gi, []byte(gitignoreBody)); err != nil {
		return "", fmt.Errorf("write %s: %w", gi, err)
	}
	return wd, nil
}

// ensureWorkSubDir creates dir/.pixform/name (and .pixform) and returns its
// path, refusing a link or a file at either.
func ensureWorkSubDir(dir, name string) (string, error) {
	wd, err := EnsureWorkDir(dir)
	if err != nil {
		return "", err
	}
	p := filepath.Join(wd, name)
	if err := mkRealDir(p); err != nil {
		return "", err
	}
	return p, nil
}

// readWorkFile reads a file of .pixform/ without following a symbolic link
// at its name (the error then wraps syscall.ELOOP), nor waiting on a FIFO:
// a regular file only.
func readWorkFile(p string) ([]byte, error) { return regfile.ReadFile(p, true) }
