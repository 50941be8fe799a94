//go:build !linux

package fsflush

// Covers is false where there is no syncfs(2): each file and directory is
// synced on its own.
func Covers(fd int) bool { return false }

// CoversPath is Covers of the file system holding path.
func CoversPath(path string) bool { return false }
