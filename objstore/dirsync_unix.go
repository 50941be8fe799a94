//go:build !windows

package objstore

import "syscall"

// dirsSync says that a directory can be fsynced to make the names in it
// durable.
const dirsSync = true

// errNotDir is rmdir's error for a name that is not a directory.
const errNotDir = syscall.ENOTDIR

// localDir is the directory that a file:// URL's path names.
func localDir(urlPath string) string { return urlPath }
