package state

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"

	"github.com/pixform/pixform/internal/safepath"
)

// CheckLockPaths checks the path of every entry of lock, parsed from data
// (the lockfile filename, for messages), against the working directory dir
// on disk: no component of any path may be a symbolic link, wherever it
// leads. ParseLock has checked the rest of the trust rule. Run it before
// anything reads, writes or deletes a file the lockfile names; the error,
// a *LockError, gives the line of the first offending entry's path and
// what to do.
func CheckLockPaths(dir string, lock *Lock, data []byte, filename string) error {
	d := safepath.NewDisk(dir)
	for _, addr := range slices.Sorted(maps.Keys(lock.Images)) {
		if _, err := d.Check(lock.Images[addr].Path); err != nil {
			off := entryOffset(data, addr)
			if off >= 0 {
				off += pathOffset(data[off:])
			} else {
				off = 0
			}
			return atOffset(data, filename, addr, off, pathMsg(err))
		}
	}
	return nil
}

// entryOffset returns the offset in data of the member of "images" whose
// key is addr, or -1.
func entryOffset(data []byte, addr string) int64 {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return -1
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return -1
		}
		if t != "images" {
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return -1
			}
			continue
		}
		if t, err := dec.Token(); err != nil || t != json.Delim('{') {
			return -1
		}
		for dec.More() {
			off := dec.InputOffset()
			k, err := dec.Token()
			if err != nil {
				return -1
			}
			if k == addr {
				return off
			}
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return -1
			}
		}
		return -1
	}
	return -1
}
