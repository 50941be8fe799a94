//go:build !linux

package safepath

func openDir(root, p, dir string) int { return -1 }

func closeDir(fd int) {}

func lstatAt(dirfd int, root, p, name string) lstatResult { return lstatPath(root, p) }
