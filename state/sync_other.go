//go:build !linux && !windows

package state

import "os"

// batchSync is false where there is no syncfs(2): PlaceTemp fsyncs each
// file, and the Recorder fsyncs the directories of what it records.
const batchSync = false

func syncTree(dir string) error { return nil }

// openExcl creates the file name, which must not exist, for reading and
// writing.
func openExcl(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
}

func rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }
