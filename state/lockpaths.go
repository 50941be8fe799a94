package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"path"
	"runtime"
	"slices"
	"sync"

	"github.com/pixform/pixform/addrs"
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
	return CheckLockPathsStats(dir, lock, data, filename, nil)
}

// CheckLockPathsStats is CheckLockPaths with each path's own lstat made
// through stats (nil: one lstat each here), shared with the other checks
// of one plan.
func CheckLockPathsStats(dir string, lock *Lock, data []byte, filename string, stats *safepath.Stats) error {
	// The first offending entry is the first in address order: sort only
	// when one is found.
	d := safepath.NewDisk(dir)
	if _, err := firstBadPath(dir, lock, slices.AppendSeq(make([]addrs.Addr, 0, len(lock.Images)), maps.Keys(lock.Images)), d, stats); err == nil {
		return nil
	}
	keys := slices.SortedFunc(maps.Keys(lock.Images), addrs.Addr.Compare)
	i, err := firstBadPath(dir, lock, keys, d, stats)
	if err == nil {
		return nil
	}
	addr := keys[i]
	var pe *safepath.Error
	if errors.As(err, &pe) {
		c := *pe
		c.Path = lock.Images[addr].Path
		err = &c
	}
	off := entryOffset(data, addr)
	if off >= 0 {
		off += pathOffset(data[off:])
	} else {
		off = 0
	}
	return atOffset(data, filename, addr.String(), off, pathMsg(err))
}

// firstBadPath checks the paths of the entries keys names, and returns the
// first one in keys' order that may not be touched, with its error (nil
// when all may).
func firstBadPath(dir string, lock *Lock, keys []addrs.Addr, d *safepath.Disk, stats *safepath.Stats) (int, error) {
	// Directories are few and memoized: check them here, in order. Each
	// path's own last component is one lstat: those run in parallel.
	errs := make([]error, len(keys))
	var leaves []int
	for i, a := range keys {
		p := lock.Images[a].Path
		ok, err := d.Dir(path.Dir(p))
		if err != nil {
			errs[i] = err
			break
		}
		if ok {
			leaves = append(leaves, i)
		}
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(runtime.GOMAXPROCS(0), len(leaves)) {
		wg.Go(func() {
			for i := range next {
				_, errs[i] = stats.Leaf(dir, lock.Images[keys[i]].Path)
			}
		})
	}
	for _, i := range leaves {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return i, err
		}
	}
	return 0, nil
}

// entryOffset returns the offset in data of the member of "images" whose
// key is addr, or -1.
func entryOffset(data []byte, addr addrs.Addr) int64 {
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
			if k == addr.String() {
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
