package views

import (
	"fmt"
	"io"
	"strconv"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/state"
)

// WriteEntry prints one lockfile entry for people.
func WriteEntry(w io.Writer, addr string, e state.Entry, color bool) {
	pal := palette{color}
	fmt.Fprintf(w, "%s\n", pal.bold(addr))
	row := func(k, v string) { fmt.Fprintf(w, "  %s %s\n", pal.dim(fmt.Sprintf("%-13s", k+":")), v) }
	row("path", e.Path)
	in := e.Inputs
	if in.Derived() {
		// A derived image shows what it is made from and how, and of its
		// text-to-image fields only those its operation takes.
		row("from", in.Source)
		row("from sha256", in.SourceSHA256)
		if in.Operation != "" {
			row("operation", in.Operation)
		}
		for _, f := range [][2]string{{"mask", in.Mask}, {"mask sha256", in.MaskSHA256}, {"crop", in.Crop}, {"resize", in.Resize}} {
			if f[1] != "" {
				row(f[0], f[1])
			}
		}
		if in.Quality != 0 {
			row("quality", fmt.Sprint(in.Quality))
		}
		if in.Prompt != "" {
			row("prompt", fmt.Sprintf("%q", in.Prompt))
		}
		if in.Seed != 0 {
			row("seed", fmt.Sprint(in.Seed))
		}
	} else {
		row("prompt", fmt.Sprintf("%q", in.Prompt))
		if in.Transparent {
			row("transparent", "true (Text to PNG)")
		} else {
			row("style", in.Style)
		}
		row("aspect_ratio", in.AspectRatio)
		row("seed", fmt.Sprint(in.Seed))
	}
	row("provider", e.Provider)
	row("file", fmt.Sprintf("%s, %d×%d, %d bytes", e.MediaType, e.Width, e.Height, e.Bytes))
	row("sha256", e.SHA256)
	for i := range e.Takes {
		t := e.TakeFull(i + 1)
		note := ""
		if i+1 == e.AtPath() {
			note = " (at path)"
			if e.Picked > 0 {
				note = " (picked, at path)"
			}
		}
		row(fmt.Sprintf("take %d", i+1), fmt.Sprintf("seed %d, %d×%d, %d bytes, sha256 %s%s", t.Seed, t.Width, t.Height, t.Bytes, t.SHA256[:12], note))
	}
	switch {
	case e.AwaitsPick():
		row("review", fmt.Sprintf("awaits a pick: pixform pick %s N", addrs.ShellQuote(addr)))
	case e.Approved != nil:
		row("approved", fmt.Sprintf("by %s at %s", Name(e.Approved.By), e.Approved.At))
	}
}

// Name shows a person's name (who approved an image) from the lockfile or
// the command line: quoted, with any control or formatting character
// escaped, so that no name can forge a line of output or drive the
// terminal, whatever let it through.
func Name(s string) string {
	return strconv.Quote(s)
}
