package objstore

import (
	"os"

	"golang.org/x/sys/unix"
)

// batchDurable says that there is syncfs(2): on a file system that
// fsflush.Covers, one of it makes every file and name written there
// before the call durable, and a file:// store's uploads share it
// (groupSync) instead of two fsyncs each.
const batchDurable = true

// syncFS flushes the file system holding the store's directory d, open
// since the store was opened: syncfs(2) reports a write-back error to
// each open description of the file system once, so a descriptor opened
// for each flush would miss the errors a flush before it (or another
// process) was told of.
func syncFS(d *os.File) error {
	if err := unix.Syncfs(int(d.Fd())); err != nil {
		return &os.PathError{Op: "syncfs", Path: d.Name(), Err: err}
	}
	return nil
}
