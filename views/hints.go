package views

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"syscall"

	"github.com/pixform/pixform/executor"
	"github.com/pixform/pixform/state"
)

// ApplyHint adds to err, the error of an apply that did not finish as the
// executor states it, what the user does next: every apply's next step is
// worded here, and only here. dir is the working directory.
func ApplyHint(err error, res *executor.Result, dir string) error {
	if err == nil {
		return nil
	}
	var le *executor.LocalError
	before, after := "", " to continue"
	switch {
	case errors.As(err, &le):
		before, after = localRemedy(filepath.Join(dir, filepath.FromSlash(path.Dir(le.Path))), le)+", then ", ""
	case errors.Is(err, executor.ErrThrottledOut):
		before, after = "wait a while (the Imagine API is rate-limiting this token), then ", ""
	case res != nil && res.Stopped == nil && res.Failed > 0:
		after = " to retry the rest"
	}
	return WithHint(err, "every image that finished is on disk and recorded in "+state.LockFileName+"; "+before+"run apply again"+after)
}

// localRemedy says how to let the local disk take an image again.
func localRemedy(dir string, le *executor.LocalError) string {
	switch {
	case errors.Is(le, syscall.ENOSPC), errors.Is(le, syscall.EDQUOT):
		return "free some space on the disk that holds " + dir
	case errors.Is(le, syscall.EROFS):
		return dir + " is on a read-only file system: make it writable"
	case errors.Is(le, fs.ErrPermission):
		return "make " + dir + " writable"
	case errors.Is(le, syscall.EFBIG):
		return "raise the file size limit (ulimit -f) or use a file system that takes files this large"
	}
	return "fix the problem with " + dir
}

// WriteMergeConflicts says which images `pixform lock merge` left marked
// in the lockfile, and how to resolve them.
func WriteMergeConflicts(w io.Writer, conflicts []string, color bool) {
	pal := palette{color}
	fmt.Fprintf(w, "pixform: lockfile conflict: %s changed on both sides:\n", plural(len(conflicts), "image"))
	for _, c := range conflicts {
		fmt.Fprintf(w, "  %s\n", c)
	}
	fmt.Fprintf(w, "%s keep one side of each marked entry in %s (or delete the entry and re-render it with pixform apply), then git add it.\n", pal.yellow("hint:"), state.LockFileName)
}
