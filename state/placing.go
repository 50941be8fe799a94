package state

import (
	"fmt"
	"os"
	"slices"

	"github.com/pixform/pixform/internal/safepath"
)

// placingName is the note of the paths an apply may place images at.
const placingName = "placing.json"

// placingVersion is the note's format.
const placingVersion = 1

// placingFile is the note: the paths, and the device and inode of the
// .pixform directory that holds it, which tie it to this checkout.
type placingFile struct {
	Version int      `json:"version"`
	Dir     fileID   `json:"dir"`
	Paths   []string `json:"paths"`
}

// The placing protocol tells a file that an apply left at an output path
// without recording it (killed between placing the image and its
// record, or stopped by a lockfile that could not be written) from a
// file of the user's, which pixform never overwrites (OccupiedError).
// Before an apply places anything, Begin notes the paths it writes,
// durably; End drops the note once every image placed is recorded. A
// note found by the next plan or apply names the paths where a file no
// entry records is that run's leftover: the next apply writes it again.
// The note is tied to this checkout by the device and inode of .pixform:
// one that came from elsewhere is ignored.

// LeftBehind is what an interrupted apply left, judged against lock as the
// next Begin judges it: pending are the noted removals FinishRemovals
// would carry out now, and leftovers the paths (safepath.Key)
// where a file no entry records is that apply's own, which a commit
// replaces: the placing note's paths, less those of the noted files
// FinishRemovals keeps (the user's from then on: a commit refuses them).
// A plan made from it refuses, before any request, what apply would.
func LeftBehind(dir string, lock *Lock) (pending []Removal, leftovers map[string]bool, err error) {
	pending, kept, err := sortRemovals(dir, lock)
	if err != nil {
		return nil, nil, err
	}
	note, _ := readPlacing(dir)
	leftovers = note.leftovers()
	dropKept(leftovers, kept)
	return pending, leftovers, nil
}

// dropKept takes the paths of kept, files FinishRemovals left where they
// are, out of left (safepath.Key): Begin and LeftBehind alike.
func dropKept(left map[string]bool, kept []KeptRemoval) {
	for _, k := range kept {
		delete(left, safepath.Key(k.Path))
	}
}

// leftovers is the paths (safepath.Key) that the note names, nil for
// none. An unreadable or foreign note counts as none (readPlacing): its
// paths stay someone's.
func (note placingFile) leftovers() map[string]bool {
	if len(note.Paths) == 0 {
		return nil
	}
	out := make(map[string]bool, len(note.Paths))
	for _, p := range note.Paths {
		out[safepath.Key(p)] = true
	}
	return out
}

// readPlacing reads the note, when it is this checkout's.
func readPlacing(dir string) (placingFile, bool) {
	var note placingFile
	_, found, err := readNote(dir, placingName, &note)
	if err != nil || !found || note.Version != placingVersion {
		return placingFile{}, false
	}
	id, ok := workDirID(dir)
	if !ok || id != note.Dir {
		return placingFile{}, false
	}
	return note, true
}

// workDirID is the device and inode of dir's .pixform.
func workDirID(dir string) (fileID, bool) {
	wd, exists, err := workDir(dir)
	if err != nil || !exists {
		return fileID{}, false
	}
	fi, err := os.Lstat(wd)
	if err != nil {
		return fileID{}, false
	}
	return idOf(fi)
}

// notePlacing notes, durably, that an apply writes paths, keeping the
// paths of earlier, the note of this checkout found (readPlacing): their
// leftovers may still be there.
func notePlacing(dir string, paths []string, earlier placingFile) error {
	if len(paths) == 0 && len(earlier.Paths) == 0 {
		return nil
	}
	all := append(slices.Clone(paths), earlier.Paths...)
	slices.Sort(all)
	all = slices.Compact(all)
	if _, err := EnsureWorkDir(dir); err != nil {
		return fmt.Errorf("note the paths this apply writes: %w", err)
	}
	id, ok := workDirID(dir)
	if !ok {
		return nil // no inode to tie a note to: every file found stays someone's
	}
	if err := writeNote(dir, placingName, placingFile{Version: placingVersion, Dir: id, Paths: all}, true); err != nil {
		return fmt.Errorf("note the paths this apply writes: %w", err)
	}
	return nil
}

// clearPlacing drops the note.
func clearPlacing(dir string) error { return removeNote(dir, placingName) }
