package state

import (
	"fmt"
	"os"
)

// SyncDir does nothing on Windows but check that dir is a directory:
// Windows cannot flush a directory (FlushFileBuffers wants a handle open
// for writing, which os.Open never gives a directory). The renames of
// state's atomic writes are written through instead (rename); an
// os.Rename elsewhere may be lost to a crash (SECURITY.md, Windows).
func SyncDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("open directory %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("sync directory %s: not a directory", dir)
	}
	return nil
}
