// Package unnamed makes files with no name in a directory (Linux's
// O_TMPFILE) and names them: a file written this way is never seen half
// written, and vanishes if the process dies before it is named.
package unnamed

import "errors"

// ErrUnsupported says that the file system (or the system) makes no
// unnamed files: the caller makes a named temporary file instead.
var ErrUnsupported = errors.New("the file system makes no unnamed files (O_TMPFILE)")

// ErrDirChanged says that the directory an unnamed file was made in is no
// longer the one at the path it is to be named at: moved, or replaced (by
// a symlink, say, in a checkout) while the file was written. Nothing is
// named through the new path, which no check has seen.
var ErrDirChanged = errors.New("its directory was moved or replaced while the file was written")

// ErrSymlink says that a directory on the way to one opened by OpenDir
// is a symbolic link, which is not followed.
var ErrSymlink = errors.New("a directory on the way is a symbolic link, which pixform does not follow")
