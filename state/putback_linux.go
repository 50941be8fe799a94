package state

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// errNoUnnamed says that the file system makes no unnamed files.
var errNoUnnamed = errors.New("the file system makes no unnamed files (O_TMPFILE)")

// errDirChanged says that the directory an unnamed file was made in is
// no longer the one at the path it is to be named at: moved, or replaced
// (by a symlink, say, in a checkout) while the file was written. Nothing
// is named through the new path, which no check has seen.
var errDirChanged = errors.New("its directory was moved or replaced while the file was written")

// linkFile gives the open file f the name name, which must not exist
// (an error that is os.ErrExist otherwise): linkat(2) of its
// /proc/self/fd entry, which names an unnamed file too.
//
// The link is made only in the directory f was made in: the name's
// directory is opened and must be that directory, found by the path the
// kernel keeps for f's own entry, and the link is made relative to it.
// A path checked when f was made can since have been changed, and
// linkat(2) would follow the change where a rename of a named file
// beside the target would fail (errDirChanged).
func linkFile(f *os.File, name string) error {
	return linkFileIn(f, name, true)
}

// linkFileElsewhere is linkFile into another directory than f's (the
// content cache's link of a take not yet placed): a link, like
// os.Link's, by the path as it is now.
func linkFileElsewhere(f *os.File, name string) error {
	return linkFileIn(f, name, false)
}

// linkFileIn is linkFile, checking that name's directory is f's only
// when sameDir.
func linkFileIn(f *os.File, name string, sameDir bool) error {
	old := "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
	fail := func(err error) error { return &os.LinkError{Op: "link", Old: f.Name(), New: name, Err: err} }
	dir, err := unix.Open(filepath.Dir(name), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fail(err)
	}
	defer unix.Close(dir)
	if sameDir {
		if err := sameDirAs(dir, old); err != nil {
			return fail(err)
		}
	}
	base := filepath.Base(name)
	for {
		err := unix.Linkat(unix.AT_FDCWD, old, dir, base, unix.AT_SYMLINK_FOLLOW)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fail(err)
		}
		return nil
	}
}

// sameDirAs checks that the directory open at dir is the one that holds
// the file open at proc (a /proc/self/fd entry): its entry's path, which
// for an unnamed or a removed file ends in " (deleted)", less its base.
func sameDirAs(dir int, proc string) error {
	target, err := os.Readlink(proc)
	if err != nil {
		return err
	}
	target = strings.TrimSuffix(target, " (deleted)")
	if !filepath.IsAbs(target) {
		return errDirChanged // not a file in a directory (a pipe, say)
	}
	var was, is unix.Stat_t
	if err := unix.Stat(filepath.Dir(target), &was); err != nil {
		return errDirChanged
	}
	if err := unix.Fstat(dir, &is); err != nil {
		return err
	}
	if was.Dev != is.Dev || was.Ino != is.Ino {
		return errDirChanged
	}
	return nil
}
