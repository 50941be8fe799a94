//go:build !linux

package objstore

// pidSpace is "" where no process ID space can be named: a holder is
// never known dead there, and Lock waits for it as for any other.
func pidSpace() string { return "" }

// processEnded is never sure elsewhere than on Linux.
func processEnded(pid int, startTicks uint64) string { return "" }

// processStartTicks is not known elsewhere than on Linux.
func processStartTicks(pid int) (uint64, bool) { return 0, false }
