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
	paths := make([]string, 0, len(lock.Images))
	for _, e := range lock.Images {
		paths = append(paths, e.Path)
	}
	if _, err := firstBadPath(dir, paths, d, stats); err == nil {
		return nil
	}
	keys := slices.SortedFunc(maps.Keys(lock.Images), addrs.Addr.Compare)
	paths = paths[:0]
	for _, a := range keys {
		paths = append(paths, lock.Images[a].Path)
	}
	i, err := firstBadPath(dir, paths, d, stats)
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

// firstBadPath checks paths, and returns the first one in their order
// that may not be touched, with its error (nil when all may).
func firstBadPath(dir string, paths []string, d *safepath.Disk, stats *safepath.Stats) (int, error) {
	// Directories are few and memoized: check them here, in order (most
	// paths share the directory of the path before). Each path's own
	// last component is one lstat: those run in parallel.
	badDir, dirErr := len(paths), error(nil)
	leaves := make([]int, 0, len(paths))
	lastDir, lastOK, looked := "", false, false
	for i, p := range paths {
		dir := path.Dir(p)
		if !looked || dir != lastDir {
			ok, err := d.Dir(dir)
			if err != nil {
				badDir, dirErr = i, err
				break
			}
			lastDir, lastOK, looked = dir, ok, true
		}
		if lastOK {
			leaves = append(leaves, i)
		}
	}
	// leafErrs[j] is the error of paths[leaves[j]]: the first one before
	// badDir is the first in order.
	leafErrs := make([]error, len(leaves))
	if stats != nil {
		// Through a Stats, at once: most were looked at already.
		ps := paths[:len(leaves)] // every path is a leaf, mostly
		if len(leaves) > 0 && leaves[len(leaves)-1] != len(leaves)-1 {
			ps = make([]string, len(leaves))
			for j, i := range leaves {
				ps[j] = paths[i]
			}
		}
		exists := make([]bool, len(ps))
		stats.Leaves(dir, ps, exists, leafErrs)
	} else {
		var wg sync.WaitGroup
		next := make(chan int)
		for range min(runtime.GOMAXPROCS(0), len(leaves)) {
			wg.Go(func() {
				for j := range next {
					_, leafErrs[j] = stats.Leaf(dir, paths[leaves[j]])
				}
			})
		}
		for j := range leaves {
			next <- j
		}
		close(next)
		wg.Wait()
	}
	for j, err := range leafErrs {
		if err != nil && leaves[j] < badDir {
			return leaves[j], err
		}
	}
	if dirErr != nil {
		return badDir, dirErr
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
