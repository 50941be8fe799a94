package state

import (
	"bytes"
	"encoding/json"
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

type removalsFile struct {
	Version  int       `json:"version"`
	Removals []Removal `json:"removals"`
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
	old, err := readRemovals(dir)
	if err != nil {
		return err
	}
	all := append(old, rs...)
	slices.SortFunc(all, func(a, b Removal) int {
		if c := cmpString(a.Path, b.Path); c != 0 {
			return c
		}
		return cmpString(a.SHA256, b.SHA256)
	})
	all = slices.Compact(all)
	wd, err := EnsureWorkDir(dir)
	if err != nil {
		return err
	}
	return writeRemovals(filepath.Join(wd, removalsName), all)
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
	keep := slices.DeleteFunc(notes, func(r Removal) bool { return drop[safepath.Key(r.Path)] })
	p := filepath.Join(dir, WorkDirName, removalsName)
	if len(keep) == 0 {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("clear %s: %w", p, err)
		}
		return nil
	}
	return writeRemovals(p, keep)
}

func writeRemovals(p string, rs []Removal) error {
	data, err := json.MarshalIndent(removalsFile{Version: 1, Removals: rs}, "", "  ")
	if err != nil {
		return err
	}
	if err := WriteFileAtomic(p, append(data, '\n')); err != nil {
		return fmt.Errorf("note the files to remove in %s: %w", p, err)
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
// (paths compared case-folded), whose path passes safepath on disk, and
// whose bytes still hash to the noted SHA-256, and then drops every note.
// It returns the files removed and those kept because they changed. An
// error leaves the notes for the next run.
func FinishRemovals(dir string, lock *Lock) (removed, kept []Removal, err error) {
	todo, kept, err := sortRemovals(dir, lock)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range todo {
		full := filepath.Join(dir, filepath.FromSlash(r.Path))
		if err := os.Remove(full); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, kept, fmt.Errorf("remove %s, left by an interrupted apply: %w", r.Path, err)
		}
		removed = append(removed, r)
	}
	p := filepath.Join(dir, WorkDirName, removalsName)
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return removed, kept, fmt.Errorf("clear %s: %w", p, err)
	}
	return removed, kept, nil
}

// sortRemovals splits the notes into files to remove now and files kept
// because their bytes changed; notes of recorded, unsafe or missing paths
// are in neither.
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
	for _, r := range notes {
		if recorded[safepath.Key(r.Path)] {
			continue
		}
		if exists, err := d.Check(r.Path); err != nil || !exists {
			continue
		}
		f, err := hashFile(filepath.Join(dir, filepath.FromSlash(r.Path)), nil)
		switch {
		case err != nil:
			return nil, nil, fmt.Errorf("read %s before removing it: %w", r.Path, err)
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
func readRemovals(dir string) ([]Removal, error) {
	p := filepath.Join(dir, WorkDirName, removalsName)
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	var f removalsFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil || f.Version != 1 {
		return nil, fmt.Errorf("%s is not a pixform removal log (%v): delete it; at worst some files of deleted images stay on disk", p, err)
	}
	for _, r := range f.Removals {
		if safepath.Check(r.Path) != nil || !validSHA256(r.SHA256) {
			return nil, fmt.Errorf("%s notes an invalid removal %q: delete it; at worst some files of deleted images stay on disk", p, r.Path)
		}
	}
	return f.Removals, nil
}
