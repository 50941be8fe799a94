//go:build !windows

package objstore

// dirsSync says that a directory can be fsynced to make the names in it
// durable.
const dirsSync = true
