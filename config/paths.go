package config

import (
	"errors"
	"fmt"
	"path"

	"github.com/hashicorp/hcl/v2"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/internal/safepath"
)

// leafState is what an lstat of an image's own path found: whether
// something is there and, if it is a symbolic link, the error.
type leafState struct {
	exists bool
	err    error
}

// checkOnDisk refuses a path with a symbolic link component (checked by
// l.disk, directories once each; leaf is the lstat of the path itself,
// made on a worker) and reports whether something is at the path.
func (l *loader) checkOnDisk(img *Image, leaf leafState, rng hcl.Range) (exists, ok bool) {
	dirExists, err := l.disk.Dir(path.Dir(img.Path))
	if err == nil && dirExists {
		exists, err = leaf.exists, leaf.err
	}
	if err == nil {
		return exists, true
	}
	inst := ""
	if img.Addr.Kind != addrs.NoKey {
		inst = img.Addr.String()
	}
	var pe *safepath.Error
	if errors.As(err, &pe) && pe.Reason == safepath.Symlink {
		what := fmt.Sprintf("%q goes through the symbolic link %q (to %q)", img.Path, pe.Link, pe.Target)
		if pe.Link == img.Path {
			what = fmt.Sprintf("%q is a symbolic link (to %q)", img.Path, pe.Target)
		}
		l.errorf(rng.Ptr(), "Image path goes through a symbolic link",
			fmt.Sprintf("%s. pixform never writes through a symbolic link, so that no path can lead outside the working directory or name the file of another path: replace the link with the real directory, or choose another path.%s",
				what, inInstance(inst)))
		return false, false
	}
	l.errorf(rng.Ptr(), "Image path cannot be checked",
		fmt.Sprintf("%v. Check the permissions of the directories on the way.%s", err, inInstance(inst)))
	return false, false
}
