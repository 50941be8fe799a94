package objstore

import "golang.org/x/sys/windows"

// dirsSync is false on Windows: FlushFileBuffers wants a handle open for
// writing, which os.Open never gives a directory, so a directory is not
// flushed, and an object's name may be lost to a crash after its upload
// was counted (SECURITY.md, Windows); its bytes are fsynced.
const dirsSync = false

// errNotDir is RemoveDirectory's error for a name that is not a
// directory (ERROR_DIRECTORY, "The directory name is invalid").
const errNotDir = windows.ERROR_DIRECTORY
