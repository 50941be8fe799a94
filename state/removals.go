package state

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/pixform/pixform/internal/safepath"
)

// removalsName is the intent log of removals inside .pixform/.
const removalsName = "removals.json"

// Removal is a file that an apply is about to stop recording and then
// remove: its path (relative, slash-separated) and the hash it had.
type Removal struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// removalNote is a Removal as noted, with the device and inode the file
// had then, and its change time, mtime (in ns) and size: a note acts only
// on that very file. The device, inode and hash alone do not tell it: a
// file deleted and then restored (git checkout FILE) gets the freed inode
// back at once on ext4, with the same bytes; its change time is new, and
// no user tool sets it back.
type removalNote struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Dev    uint64 `json:"dev"`
	Ino    uint64 `json:"ino"`
	CTime  int64  `json:"ctime,omitempty"`
	MTime  int64  `json:"mtime,omitempty"`
	Size   int64  `json:"size,omitempty"`
}

// removalsVersion is the note's format. Version 1 notes carry no inode,
// so they match no file and are dropped; version 2 notes no change time,
// so they cannot tell the file noted from one restored at its inode: the
// file is kept (KeptRemoval says why).
const removalsVersion = 3

// KeptRemoval is a noted removal whose file FinishRemovals left where it
// is, and why (a clause, for a warning).
type KeptRemoval struct {
	Removal
	Why string
	// Edited says that its bytes changed: the user's edit, which the
	// change that removed its entry already warned of, if this run's.
	Edited bool
}

// Why a noted file is kept.
const (
	whyEdited   = "its bytes changed since (edited by hand?)"
	whyReplaced = "it is not the file noted, but one put there or changed since, with the same bytes (restored by git checkout?)"
	whyOldNote  = "an older pixform noted it, without the change time that tells whether it is still the very file"
)

// noteOf is the note of r, whose file fi is (a regular file).
func noteOf(r Removal, id fileID, fi fs.FileInfo) removalNote {
	n := removalNote{Path: r.Path, SHA256: r.SHA256, Dev: id.Dev, Ino: id.Ino, MTime: fi.ModTime().UnixNano(), Size: fi.Size()}
	_, n.CTime, _ = inodeCTime(fi)
	return n
}

// sameStat reports whether fi, the file at n's path with n's device and
// inode, still has the change time, mtime and size noted (a note without
// a change time, an older pixform's, never does: no file's is zero).
func (n removalNote) sameStat(fi fs.FileInfo) bool {
	_, ctime, ok := inodeCTime(fi)
	return ok && ctime == n.CTime && fi.ModTime().UnixNano() == n.MTime && fi.Size() == n.Size
}

type removalsFile struct {
	Version  int           `json:"version"`
	Removals []removalNote `json:"removals"`
}

// The removal protocol keeps the lockfile's guarantee (every entry's file
// exists with its hash) and leaves no orphan: before an apply removes an
// entry whose file it will then delete (a delete, or the old path of a move
// or replace), IntendRemovals makes a note of the file durable; a crash
// between the entry's removal and the file's leaves the note, and the next
// apply's FinishRemovals deletes the file, but only when no entry records
// its path any more and its bytes are still the noted ones (a file the
// user changed is kept). An entry still recorded keeps its file: the note
// is simply dropped, since the next plan sees the entry.

// IntendRemovals adds rs to the notes of dir's working directory,
// atomically and durably, before any of their entries is removed.
func IntendRemovals(dir string, rs []Removal) error {
	if len(rs) == 0 {
		return nil
	}
	all, err := readRemovals(dir)
	if err != nil {
		return err
	}
	d := safepath.NewDisk(dir)
	for _, r := range rs {
		if safepath.Check(r.Path) != nil || !validSHA256(r.SHA256) {
			return fmt.Errorf("note the removal of %q: not a valid output path and hash", r.Path)
		}
		if exists, err := d.Check(r.Path); err != nil || !exists {
			continue // nothing there to remove later
		}
		fi, err := lstatID(filepath.Join(dir, filepath.FromSlash(r.Path)))
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		id, ok := idOf(fi)
		if !ok {
			continue
		}
		all = append(all, noteOf(r, id, fi))
	}
	slices.SortFunc(all, func(a, b removalNote) int {
		if c := cmpString(a.Path, b.Path); c != 0 {
			return c
		}
		if c := cmpString(a.SHA256, b.SHA256); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(a.Dev, b.Dev), cmp.Compare(a.Ino, b.Ino), cmp.Compare(a.CTime, b.CTime), cmp.Compare(a.MTime, b.MTime), cmp.Compare(a.Size, b.Size))
	})
	all = slices.Compact(all)
	if len(all) == 0 {
		return nil
	}
	return writeRemovals(dir, all)
}

// ForgetRemovals drops the notes of paths (compared case-folded), whose
// entries are removed from the lockfile without their files (state rm):
// those files stay on disk, and no later apply may take them for leftovers.
func ForgetRemovals(dir string, paths []string) error {
	notes, err := readRemovals(dir)
	if err != nil || len(notes) == 0 {
		return err
	}
	drop := make(map[string]bool, len(paths))
	for _, p := range paths {
		drop[safepath.Key(p)] = true
	}
	keep := slices.DeleteFunc(notes, func(r removalNote) bool { return drop[safepath.Key(r.Path)] })
	if len(keep) == 0 {
		return removeNote(dir, removalsName)
	}
	return writeRemovals(dir, keep)
}

func writeRemovals(dir string, rs []removalNote) error {
	if err := writeNote(dir, removalsName, removalsFile{Version: removalsVersion, Removals: rs}, true); err != nil {
		return fmt.Errorf("note the files to remove: %w", err)
	}
	return nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// FinishRemovals carries out the noted removals against lock, the
// lockfile as on disk: it deletes each noted file that no entry records
// (paths compared case-folded), whose path passes safepath on disk, that
// is still the very file noted (device and inode, change time, mtime and
// size) and whose bytes still hash to the noted SHA-256, and then drops
// every note. A note of anything else (a directory, a file from another
// checkout) is dropped untouched. It returns the files removed and those
// kept at the inode noted because they changed, or because the note
// cannot tell (an older pixform's), with why. An error, or ctx done
// between files, leaves the notes for the next run.
func FinishRemovals(ctx context.Context, dir string, lock *Lock) (removed []Removal, kept []KeptRemoval, err error) {
	todo, kept, err := sortRemovals(dir, lock)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range todo {
		if err := ctx.Err(); err != nil {
			return removed, kept, fmt.Errorf("stopped finishing the removals of an interrupted apply: %w", err)
		}
		full := filepath.Join(dir, filepath.FromSlash(r.Path))
		if err := os.Remove(full); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, kept, fmt.Errorf("remove %s, left by an interrupted apply: %w", r.Path, err)
		}
		removed = append(removed, r)
	}
	return removed, kept, removeNote(dir, removalsName)
}

// sortRemovals splits the notes into files to remove now and files kept
// because they changed, or because their note cannot tell; notes of
// recorded, unsafe, missing, non-regular or other files (device and
// inode) are in neither.
func sortRemovals(dir string, lock *Lock) (todo []Removal, kept []KeptRemoval, err error) {
	notes, err := readRemovals(dir)
	if err != nil || len(notes) == 0 {
		return nil, nil, err
	}
	recorded := make(map[string]bool, len(lock.Images))
	for _, e := range lock.Images {
		recorded[safepath.Key(e.Path)] = true
	}
	d := safepath.NewDisk(dir)
	for _, n := range notes {
		r := Removal{Path: n.Path, SHA256: n.SHA256}
		if recorded[safepath.Key(r.Path)] {
			continue
		}
		if exists, err := d.Check(r.Path); err != nil || !exists {
			continue
		}
		full := filepath.Join(dir, filepath.FromSlash(r.Path))
		fi, err := lstatID(full)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if id, ok := idOf(fi); !ok || id != (fileID{Dev: n.Dev, Ino: n.Ino}) {
			continue
		}
		f, err := hashFile(full, nil)
		switch {
		case err != nil:
			p := filepath.Join(dir, WorkDirName, removalsName)
			return nil, nil, fmt.Errorf("read %s, which %s notes for removal: %w; fix its permissions, or delete %s (safe: at worst some files of deleted images stay on disk)", r.Path, p, err, p)
		case !f.exists:
		case f.sum != r.SHA256:
			kept = append(kept, KeptRemoval{Removal: r, Why: whyEdited, Edited: true})
		case n.CTime == 0:
			kept = append(kept, KeptRemoval{Removal: r, Why: whyOldNote})
		case !n.sameStat(fi):
			kept = append(kept, KeptRemoval{Removal: r, Why: whyReplaced})
		default:
			todo = append(todo, r)
		}
	}
	return todo, kept, nil
}

// readRemovals reads the notes; none is no error.
func readRemovals(dir string) ([]removalNote, error) {
	var f removalsFile
	p, found, err := readNote(dir, removalsName, &f)
	if err == nil && found && (f.Version < 1 || f.Version > removalsVersion) {
		err = fmt.Errorf("%s has unknown version %d", p, f.Version)
	}
	if err != nil {
		var wde *WorkDirError
		if errors.As(err, &wde) {
			return nil, err
		}
		return nil, fmt.Errorf("%v: delete %s (safe: at worst some files of deleted images stay on disk)", err, p)
	}
	for _, r := range f.Removals {
		if safepath.Check(r.Path) != nil || !validSHA256(r.SHA256) {
			return nil, fmt.Errorf("%s notes an invalid removal %q: delete it (safe: at worst some files of deleted images stay on disk)", p, r.Path)
		}
	}
	return f.Removals, nil
}
