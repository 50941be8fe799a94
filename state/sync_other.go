//go:build !linux

package state

// batchSync is false where there is no syncfs(2): PlaceTemp fsyncs each
// file, and the Recorder fsyncs the directories of what it records.
const batchSync = false

func syncTree(dir string) error { return nil }
