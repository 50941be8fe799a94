//go:build !linux

package objstore

import "time"

// pidSpace is "" where no process ID space can be named: a holder is
// never known dead there, and Lock waits for it as for any other.
func pidSpace() string { return "" }

// processEnded is never sure elsewhere than on Linux.
func processEnded(pid int, created time.Time) string { return "" }
