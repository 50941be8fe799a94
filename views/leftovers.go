package views

import (
	"fmt"
	"io"
	"strings"
)

// WriteLeftovers tells, after a plan, that apply will first finish
// deleting the files of images an interrupted apply stopped recording:
// paths, relative to the working directory. Nothing is written when there
// are none.
func WriteLeftovers(w io.Writer, paths []string, color bool) {
	if len(paths) == 0 {
		return
	}
	pal := palette{color}
	fmt.Fprintf(w, "\n%s apply will also finish deleting %s that an interrupted apply left behind (their images are no longer recorded): %s\n",
		pal.yellow("Note:"), Plural(len(paths), "file"), strings.Join(paths, ", "))
}
