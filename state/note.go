package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The notes in .pixform/ (removals.json, dirs.json) are JSON files that
// only this checkout's pixform writes. Each noted path carries the device
// and inode it had when noted, and pixform acts on a note only while they
// still match: a note that came from elsewhere (committed in a pull
// request, copied from another checkout) names files by number that are
// not this checkout's, and is dropped untouched.

// fileID is the device and inode of a file or directory.
type fileID struct {
	Dev uint64 `json:"dev"`
	Ino uint64 `json:"ino"`
}

// readNote decodes the note .pixform/name of dir into v, refusing unknown
// fields. found is false, with no error, when there is no note (or no
// .pixform), or one larger than any pixform writes (maxNoteSize), which
// is ignored as a note from another checkout is. p is the note's path,
// for messages. A link at the note's name is an error, never followed.
func readNote(dir, name string, v any) (p string, found bool, err error) {
	data, p, found, err := readNoteData(dir, name)
	if err != nil || !found {
		return p, found, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return p, true, fmt.Errorf("%s is not a pixform note: %w", p, err)
	}
	return p, true, nil
}

// readNoteData reads the note .pixform/name of dir, as readNote does,
// without decoding it.
func readNoteData(dir, name string) (data []byte, p string, found bool, err error) {
	wd, exists, err := workDir(dir)
	p = filepath.Join(wd, name)
	if err != nil || !exists {
		return nil, p, false, err
	}
	data, err = readWorkNote(p)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNoteTooLarge) {
		return nil, p, false, nil
	}
	if err != nil {
		return nil, p, false, fmt.Errorf("read %s: %w", p, err)
	}
	return data, p, true, nil
}

// writeNote replaces the note .pixform/name of dir with v, atomically;
// durably (fsync) only when durable is set.
func writeNote(dir, name string, v any, durable bool) error {
	wd, err := EnsureWorkDir(dir)
	if err != nil {
		return err
	}
	p := filepath.Join(wd, name)
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	f, err := CreateTemp(p)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		AbortTemp(f)
		return fmt.Errorf("write %s: %w", p, err)
	}
	if durable {
		return CommitTemp(f, p)
	}
	return RenameTemp(f, p)
}

// removeNote deletes the note .pixform/name of dir; none is no error.
func removeNote(dir, name string) error {
	wd, exists, err := workDir(dir)
	if err != nil || !exists {
		return err
	}
	p := filepath.Join(wd, name)
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("clear %s: %w", p, err)
	}
	return nil
}
