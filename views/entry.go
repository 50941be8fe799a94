package views

import (
	"fmt"
	"io"

	"github.com/pixform/pixform/state"
)

// WriteEntry prints one lockfile entry for people.
func WriteEntry(w io.Writer, addr string, e state.Entry, color bool) {
	pal := palette{color}
	fmt.Fprintf(w, "%s\n", pal.bold(addr))
	row := func(k, v string) { fmt.Fprintf(w, "  %s %s\n", pal.dim(fmt.Sprintf("%-13s", k+":")), v) }
	row("path", e.Path)
	row("prompt", fmt.Sprintf("%q", e.Inputs.Prompt))
	row("style", e.Inputs.Style)
	row("aspect_ratio", e.Inputs.AspectRatio)
	row("seed", fmt.Sprint(e.Inputs.Seed))
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
		row("review", fmt.Sprintf("awaits a pick: pixform pick %s N", addr))
	case e.Approved != nil:
		row("approved", fmt.Sprintf("by %s at %s", e.Approved.By, e.Approved.At))
	}
}
