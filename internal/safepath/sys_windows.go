package safepath

import "io/fs"

// sysOf is zero on Windows: its lstat (GetFileAttributesEx) gives neither
// a file index nor a change time, and learning them costs an open of each
// file. A stat cache then keys a file on its size and modification time
// only (SECURITY.md, Windows).
func sysOf(fs.FileInfo) StatSys { return StatSys{} }
