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
// had then: a note acts only on that very file.
type removalNote struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Dev    uint64 `json:"dev"`
	Ino    uint64 `json:"ino"`
}

// removalsVersion is the note's format; version 1 notes carry no inode,
// so they match no file and are dropped.
const removalsVersion = 2

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
		fi, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(r.Path)))
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		id, ok := idOf(fi)
		if !ok {
			continue
		}
		all = append(all, removalNote{Path: r.Path, SHA256: r.SHA256, Dev: id.Dev, Ino: id.Ino})
	}
	slices.SortFunc(all, func(a, b removalNote) int {
		if c := cmpString(a.Path, b.Path); c != 0 {
			return c
		}
		if c := cmpString(a.SHA256, b.SHA256); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Dev, b.Dev); c != 0 {
			return c
		}
		return cmp.Compare(a.Ino, b.Ino)
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

// PendingRemovals returns the noted removals that FinishRemovals would
// carry out now against lock: files left by an apply that was interrupted
// between removing entries and removing their files. It changes nothing.
func PendingRemovals(dir string, lock *Lock) ([]Removal, error) {
	todo, _, err := sortRemovals(dir, lock)
	return todo, err
}

// FinishRemovals carries out the noted removals against lock, the
// lockfile as on disk: it deletes each noted file that no entry records
// (paths compared case-folded), whose path passes safepath on disk, that
// is still the very file noted (device and inode) and whose bytes still
// hash to the noted SHA-256, and then drops every note. A note of anything
// else (a directory, a file from another checkout) is dropped untouched.
// It returns the files removed and those kept because they changed. An
// error, or ctx done between files, leaves the notes for the next run.
func FinishRemovals(ctx context.Context, dir string, lock *Lock) (removed, kept []Removal, err error) {
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
// because their bytes changed; notes of recorded, unsafe, missing,
// non-regular or other files (device and inode) are in neither.
func sortRemovals(dir string, lock *Lock) (todo, kept []Removal, err error) {
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
		fi, err := os.Lstat(full)
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
		case f.sum == r.SHA256:
			todo = append(todo, r)
		default:
			kept = append(kept, r)
		}
	}
	return todo, kept, nil
}

// readRemovals reads the notes; none is no error.
func readRemovals(dir string) ([]removalNote, error) {
	var f removalsFile
	p, found, err := readNote(dir, removalsName, &f)
	if err == nil && found && f.Version != 1 && f.Version != removalsVersion {
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
