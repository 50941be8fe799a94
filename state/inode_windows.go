package state

import "io/fs"

// idOf is never ok on Windows: an lstat there (GetFileAttributesEx) has
// no file index, so no note under .pixform/ ever matches, and each is
// dropped as one from another checkout is: the safe side (SECURITY.md,
// Windows).
func idOf(fs.FileInfo) (fileID, bool) { return fileID{}, false }

// inodeCTime is never ok on Windows, whose lstat has neither a file index
// nor a change time: a stat cache keys a file on its size and
// modification time only, and a removal note's sameStat never holds.
func inodeCTime(fs.FileInfo) (ino uint64, ctime int64, ok bool) { return 0, 0, false }
