// Package fsflush says whether one flush of a whole file system (syncfs)
// makes what was written there durable, so that a batch of files can share
// it instead of an fsync of each file and directory.
package fsflush
