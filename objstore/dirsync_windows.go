package objstore

import (
	"path/filepath"

	"golang.org/x/sys/windows"
)

// dirsSync is false on Windows: FlushFileBuffers wants a handle open for
// writing, which os.Open never gives a directory, so a directory is not
// flushed, and an object's name may be lost to a crash after its upload
// was counted (SECURITY.md, Windows); its bytes are fsynced.
const dirsSync = false

// errNotDir is RemoveDirectory's error for a name that is not a
// directory (ERROR_DIRECTORY, "The directory name is invalid").
const errNotDir = windows.ERROR_DIRECTORY

// localDir is the directory that a file:// URL's path names: on Windows
// file:///C:/store has the path /C:/store, which names C:\store.
func localDir(urlPath string) string {
	p := urlPath
	if len(p) >= 3 && p[0] == '/' && p[2] == ':' && ('A' <= p[1] && p[1] <= 'Z' || 'a' <= p[1] && p[1] <= 'z') {
		p = p[1:]
	}
	return filepath.FromSlash(p)
}
