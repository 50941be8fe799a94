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
}
