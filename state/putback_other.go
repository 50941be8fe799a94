//go:build !linux

package state

import (
	"errors"
	"os"
)

// errNoUnnamed says that the file system makes no unnamed files.
var errNoUnnamed = errors.New("no unnamed files on this system")

// errDirChanged is never returned here (linkFile makes no link).
var errDirChanged = errors.New("its directory was moved or replaced while the file was written")

// linkFileElsewhere is never called here either.
func linkFileElsewhere(f *os.File, name string) error { return linkFile(f, name) }

// linkFile is never called here (openUnnamedTemp makes no file).
func linkFile(f *os.File, name string) error {
	return &os.LinkError{Op: "link", Old: f.Name(), New: name, Err: errNoUnnamed}
}
