package state

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/pixform/pixform/addrs"
)

// Remove stops recording the entries as of lock, the lockfile of the
// working directory dir, and leaves their files on disk (state rm). The
// caller holds the directory's lock (AcquireDirLock) and read lock from
// disk under it; lock itself is not changed.
//
// The order is the guarantee: first the notes of removals that an
// interrupted apply left for those paths are dropped, then the lockfile
// without the entries is written atomically. The other order would let a
// crash in between leave a note for a file no entry records, which the
// next apply would delete although the user chose to keep it. A crash
// after the notes are dropped keeps the entries recorded, with their
// files: nothing is lost.
//
// An address that lock does not hold is an error, and then, as when ctx
// is done, nothing is changed.
func Remove(ctx context.Context, dir string, lock *Lock, as []addrs.Addr) error {
	next := lock.Clone()
	paths := make([]string, 0, len(as))
	for _, a := range as {
		e, ok := next.Images[a]
		if !ok {
			return fmt.Errorf("%s is not in %s", a, LockFileName)
		}
		paths = append(paths, e.Path)
		delete(next.Images, a)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := ForgetRemovals(dir, paths); err != nil {
		return err
	}
	if err := WriteFileAtomic(filepath.Join(dir, LockFileName), next.Marshal()); err != nil {
		return fmt.Errorf("write lockfile: %w", err)
	}
	return nil
}
