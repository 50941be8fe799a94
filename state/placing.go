package state

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

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
	// Placed maps a noted path to the SHA-256 of the image that an apply
	// placed there and could not record (its lockfile write failed, or
	// it was stopped first), as the End of that apply found it: a file of
	// those bytes there is its leftover. None after a kill, which leaves
	// no time to note it: the content cache tells then (Leftovers). An
	// older pixform refuses a note with it (an unknown field), and so
	// takes no file for a leftover: the safe side.
	Placed map[string]string `json:"placed,omitempty"`
}

// The placing protocol tells a file that an apply left at an output path
// without recording it (killed between placing the image and its
// record, or stopped by a lockfile that could not be written) from a
// file of the user's, which pixform never overwrites (OccupiedError).
// Before an apply places anything, Begin notes the paths it writes,
// durably; End drops the note once every image placed is recorded, or,
// when some are not, notes their hashes (Placed). The note names paths,
// written before any image exists: a file found later at one of them,
// which no entry records, may be that run's leftover or one the user put
// there since (a new file, or the leftover edited in place). So it is
// taken for the leftover, which the next apply writes over, only while
// its bytes are an image pixform made: the one the note records as
// placed there, one the log of the images placed and not cached records
// there (placedLogName: a draft render, a local edit, a move, logged
// before it is placed), or a render the content cache holds (a paid
// render goes into the cache before it is placed, so a kill in between
// leaves its bytes there; writing over a file of a cached render's bytes
// loses nothing the cache does not keep). Anything else is refused: so
// is a leftover whose bytes nothing records (the log's line lost to a
// power loss, a cache deleted or damaged): nothing then tells it from
// the user's, and the refusal says that an interrupted apply was writing
// there (Leftovers.Noted), and what to do. Judging by bytes costs
// nothing per image: only a file found at a noted path that no entry
// records, which exists only after an interruption, is hashed, and the
// log read and the cache listed. The note is tied to this checkout by
// the device and inode of .pixform: one that came from elsewhere is
// ignored. End of a run that finished drops the note and the log: an
// earlier run's leftover it did not write over is the user's from then
// on (refused, never replaced); End of one that did not keeps the paths
// that hold a file, with their hashes.

// LeftBehind is what an interrupted apply left, judged against lock as the
// next Begin judges it: pending are the noted removals FinishRemovals
// would carry out now, and left judges the files at the paths that apply
// was placing images at or deleting (Leftovers.Holds): the placing
// note's paths, less those of the noted files FinishRemovals keeps (the
// user's from then on: a commit refuses them), and the paths of pending.
// A plan made from it refuses, before any request, what apply would.
func LeftBehind(dir string, lock *Lock) (pending []Removal, left *Leftovers, err error) {
	pending, kept, err := sortRemovals(dir, lock)
	if err != nil {
		return nil, nil, err
	}
	note, _ := readPlacing(dir)
	left = note.leftovers(dir, func() *Cache { return OpenCache(dir) })
	left.drop(kept)
	for _, r := range pending {
		if left == nil {
			left = &Leftovers{}
		}
		if left.removing == nil {
			left.removing = map[string]string{}
		}
		left.removing[safepath.Key(r.Path)] = r.SHA256
	}
	return pending, left, nil
}

// Leftovers judges the files that an interrupted apply may have left,
// unrecorded, at the paths it was placing images at or deleting files
// from (LeftBehind, and a Store's Begin). A nil *Leftovers judges every
// file someone's. It is safe for concurrent use.
type Leftovers struct {
	// placing are the noted paths (safepath.Key), with the SHA-256 the
	// note records as placed there, if any ("" for none).
	placing map[string]string
	// removing maps the path (safepath.Key) of each pending removal to
	// the SHA-256 noted with it.
	removing map[string]string

	// dir is the working directory, whose log of the images placed and
	// not cached (placedLogName) logged holds, read on the first file to
	// judge that the note records no bytes for, for the noted paths.
	dir     string
	logOnce sync.Once
	logged  map[string][]string

	// cache opens the content cache, whose renders' hashes (cached) are
	// read on the first file to judge that neither the note nor the log
	// records: only after an interruption.
	cache     func() *Cache
	cacheOnce sync.Once
	cached    map[[sha256.Size]byte]bool
}

// Holds reports whether a file whose bytes hash to sum (lower-case hex),
// found at path (relative, slash-separated) where no lockfile entry
// records it, is what an interrupted apply left there, which a change
// writing there replaces: the file of a removal it noted, still of the
// noted bytes, or, at a path it was placing an image at, an image
// pixform made: the one the note records as placed there, one the log
// of the images placed and not cached records there (placedLogName), or
// a render the content cache holds. Any other file, or an empty sum (not a
// regular file, or not read), is someone's.
func (l *Leftovers) Holds(path, sum string) bool {
	if l == nil || !validSHA256(sum) {
		return false
	}
	k := safepath.Key(path)
	if r, ok := l.removing[k]; ok && r == sum {
		return true
	}
	placed, noted := l.placing[k]
	if !noted {
		return false
	}
	if placed == sum {
		return true
	}
	l.logOnce.Do(func() {
		if l.dir != "" {
			l.logged = readPlacedLog(l.dir, func(k string) bool { _, ok := l.placing[k]; return ok })
		}
	})
	if slices.Contains(l.logged[k], sum) {
		return true
	}
	l.cacheOnce.Do(func() {
		if l.cache != nil {
			l.cached = l.cache().renderSums()
		}
	})
	var b [sha256.Size]byte
	hex.Decode(b[:], []byte(sum))
	return l.cached[b]
}

// Noted reports whether an interrupted apply was placing an image at
// path (relative, slash-separated): a file there that Holds does not
// take for its leftover may be that leftover, changed, or the user's.
func (l *Leftovers) Noted(path string) bool {
	if l == nil {
		return false
	}
	_, ok := l.placing[safepath.Key(path)]
	return ok
}

// drop takes the paths of kept, files FinishRemovals left where they
// are, out of l: Begin and LeftBehind alike.
func (l *Leftovers) drop(kept []KeptRemoval) {
	if l == nil {
		return
	}
	for _, k := range kept {
		delete(l.placing, safepath.Key(k.Path))
	}
}

// renderSums returns the hashes of the renders c holds, older copies
// included, as its listing records them: bytes pixform made. A set made
// anew (no index by hash is kept for it), for the files an interruption
// left. A nil or absent cache holds none.
func (c *Cache) renderSums() map[[sha256.Size]byte]bool {
	if c == nil {
		return nil
	}
	c.load()
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[[sha256.Size]byte]bool, len(c.entries))
	for _, f := range c.entries {
		out[f.sum] = true
	}
	for _, o := range c.older {
		for _, f := range o {
			out[f.sum] = true
		}
	}
	return out
}

// leftovers is the Leftovers of the note's paths, nil for none. An
// unreadable or foreign note counts as none (readPlacing): its paths
// stay someone's. dir is the working directory, whose log of the images
// placed and not cached is read ("": none), and cache opens the content
// cache (nil: none).
func (note placingFile) leftovers(dir string, cache func() *Cache) *Leftovers {
	if len(note.Paths) == 0 {
		return nil
	}
	l := &Leftovers{placing: make(map[string]string, len(note.Paths)), dir: dir, cache: cache}
	for _, p := range note.Paths {
		l.placing[safepath.Key(p)] = note.Placed[p]
	}
	return l
}

// readPlacing reads the note, when it is this checkout's: once one is
// found (almost never: only after an interruption), the device and inode
// of .pixform are looked at, and compared with the note's before its
// paths are decoded (as pixform writes it, they come first), so that a
// note from elsewhere costs no decoding of its paths. A note over
// maxNoteSize, unreadable, or not one pixform writes (an unknown field)
// is none.
func readPlacing(dir string) (placingFile, bool) {
	data, _, found, err := readNoteData(dir, placingName)
	if err != nil || !found {
		return placingFile{}, false
	}
	id, ok := workDirID(dir)
	if !ok {
		return placingFile{}, false
	}
	return decodePlacing(data, id)
}

// decodePlacing decodes the placing note data, field by field, refusing
// an unknown one, and stops at a version or a directory (id) that is not
// this checkout's.
func decodePlacing(data []byte, id fileID) (placingFile, bool) {
	var note placingFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return placingFile{}, false
	}
	tied := false
	for dec.More() {
		t, err := dec.Token()
		key, ok := t.(string)
		if err != nil || !ok {
			return placingFile{}, false
		}
		switch key {
		case "version":
			err = dec.Decode(&note.Version)
			if err == nil && note.Version != placingVersion {
				return placingFile{}, false
			}
		case "dir":
			err = dec.Decode(&note.Dir)
			if err == nil && note.Dir != id {
				return placingFile{}, false // another checkout's
			}
			tied = true
		case "paths":
			err = dec.Decode(&note.Paths)
		case "placed":
			err = dec.Decode(&note.Placed)
		default:
			return placingFile{}, false // not a note pixform writes
		}
		if err != nil {
			return placingFile{}, false
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') || !tied || note.Version != placingVersion {
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
	fi, err := lstatID(wd)
	if err != nil {
		return fileID{}, false
	}
	return idOf(fi)
}

// notePlacing notes, durably, that an apply writes paths, keeping the
// paths of earlier, the note of this checkout found (readPlacing): their
// leftovers may still be there; and the hashes earlier records as placed
// at any of them.
func notePlacing(dir string, paths []string, earlier placingFile) error {
	if len(paths) == 0 && len(earlier.Paths) == 0 {
		return nil
	}
	all := append(slices.Clone(paths), earlier.Paths...)
	slices.Sort(all)
	all = slices.Compact(all)
	var placed map[string]string
	for _, p := range all {
		if sum := earlier.Placed[p]; sum != "" {
			if placed == nil {
				placed = map[string]string{}
			}
			placed[p] = sum
		}
	}
	if _, err := EnsureWorkDir(dir); err != nil {
		return fmt.Errorf("note the paths this apply writes: %w", err)
	}
	id, ok := workDirID(dir)
	if !ok {
		return nil // no inode to tie a note to: every file found stays someone's
	}
	if err := writeNote(dir, placingName, placingFile{Version: placingVersion, Dir: id, Paths: all, Placed: placed}, true); err != nil {
		return fmt.Errorf("note the paths this apply writes: %w", err)
	}
	return nil
}

// clearPlacing drops the note, and the log of the images placed and not
// cached first: no log outlives the note that ties it to this checkout.
func clearPlacing(dir string) error {
	if err := removePlacedLog(dir); err != nil {
		return err
	}
	return removeNote(dir, placingName)
}
