package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/views"
)

// replaceable checks that a file named on the command line (flag, as the
// user gave it) may be written at target. Such files are written whole
// and renamed over what was there, which would replace a symbolic link, a
// device or a named pipe with a file of their own (run as root, the
// gallery's -o=/dev/full replaced the device): anything there but a
// regular file is refused. other, when not empty, is the hint's other way.
func replaceable(target, flag, other string) error {
	fi, err := os.Lstat(target)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("%s: %w", flag, err)
	}
	or := ""
	if other != "" {
		or = ", or " + other
	}
	switch m := fi.Mode(); {
	case m.IsRegular():
		return nil
	case m.IsDir():
		return views.WithHint(errors.New(flag+" is a directory"), "name a file in it"+or)
	case m&fs.ModeSymlink != 0:
		return views.WithHint(errors.New(flag+" is a symbolic link: writing there would replace the link, not the file it names"),
			"name the file itself"+or)
	default:
		return views.WithHint(fmt.Errorf("%s is not a regular file (%s): writing there would replace it", flag, config.FileKind(m)),
			"name a regular file"+or)
	}
}
