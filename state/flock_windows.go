package state

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// lockOffset is where the byte that tryLock locks lies: far past any
// holder's details, since a Windows lock is mandatory and a waiting
// process must still read who holds it (readHolder).
const lockOffset = 1 << 62

// tryLock takes an exclusive lock (LockFileEx) on one byte of f beyond
// its data, without waiting. Windows drops it when the process dies.
func tryLock(f *os.File) error {
	ol := windows.Overlapped{Offset: lockOffset & 0xffffffff, OffsetHigh: lockOffset >> 32}
	return windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ol)
}

// lockBusy reports whether tryLock failed because another holds the lock.
func lockBusy(err error) bool {
	return errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING)
}

// unlock releases tryLock's lock.
func unlock(f *os.File) error {
	ol := windows.Overlapped{Offset: lockOffset & 0xffffffff, OffsetHigh: lockOffset >> 32}
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, &ol)
}
