package state

import (
	"os"

	"golang.org/x/sys/windows"
)

// batchSync is false on Windows, which has no syncfs: PlaceTemp fsyncs
// each file (FlushFileBuffers), and a rename is written through.
const batchSync = false

func syncTree(dir string) error { return nil }

// openExcl creates the file name, which must not exist, for reading and
// writing.
func openExcl(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
}

// rename is os.Rename (MoveFileEx, replacing a file at newpath) with
// MOVEFILE_WRITE_THROUGH: it returns once the new name is on disk, since
// Windows cannot flush the directory afterwards (SyncDir). It fails, as
// os.Rename does, while another process holds newpath open without
// sharing its deletion.
func rename(oldpath, newpath string) error {
	from, err := windows.UTF16PtrFromString(oldpath)
	if err != nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
	to, err := windows.UTF16PtrFromString(newpath)
	if err != nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
	if err := windows.MoveFileEx(from, to, windows.MOVEFILE_REPLACE_EXISTING|windows.MOVEFILE_WRITE_THROUGH); err != nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
	return nil
}
