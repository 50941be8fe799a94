package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// WorkDirName is pixform's local, rebuildable directory inside the working
// directory. It is never committed: EnsureWorkDir writes a .gitignore in it.
const WorkDirName = ".pixform"

// gitignoreBody ignores everything in .pixform/, itself included.
const gitignoreBody = "*\n"

// EnsureWorkDir creates dir/.pixform/ with a .gitignore that ignores all of
// it, and returns its path. It is idempotent and cheap when both exist.
func EnsureWorkDir(dir string) (string, error) {
	wd := filepath.Join(dir, WorkDirName)
	if err := os.MkdirAll(wd, 0o755); err != nil {
		return "", fmt.Errorf("create pixform work directory %s: %w (check the working directory's permissions)", wd, err)
	}
	gi := filepath.Join(wd, ".gitignore")
	cur, err := os.ReadFile(gi)
	if err == nil && string(cur) == gitignoreBody {
		return wd, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read %s: %w", gi, err)
	}
	if err := WriteFileAtomic(gi, []byte(gitignoreBody)); err != nil {
		return "", fmt.Errorf("write %s: %w", gi, err)
	}
	return wd, nil
}
