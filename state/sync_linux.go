package state

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// batchSync says that one syncfs(2) before a lockfile write makes every
// output placed since durable, data and names, so PlaceTemp need not fsync
// each file: an apply of many images pays one flush per lockfile write
// instead of two per image.
const batchSync = true

// syncTree flushes the file system that holds dir.
func syncTree(dir string) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer unix.Close(fd)
	if err := unix.Syncfs(fd); err != nil {
		return fmt.Errorf("syncfs %s: %w", dir, err)
	}
	return nil
}
