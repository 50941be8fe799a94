package views

import (
	"fmt"
	"io"
	"strings"

	"github.com/pixform/pixform/planner"
)

// awaitingLine words one image that awaits a person, with the command
// that settles it.
func awaitingLine(a planner.Awaiting) string {
	word := a.Addr.ShellWord()
	switch {
	case a.Pending && a.Pick:
		return fmt.Sprintf("%s: %d new takes to render, then a pick (pixform pick %s N) and an approval", a.Addr, a.Takes, word)
	case a.Pending:
		return fmt.Sprintf("%s: to render, then an approval (pixform approve %s)", a.Addr, word)
	case a.Pick:
		return fmt.Sprintf("%s: awaits a pick among %d takes (pixform pick %s N), then an approval", a.Addr, a.Takes, word)
	}
	return fmt.Sprintf("%s: awaits an approval of %s (pixform approve %s)", a.Addr, a.Path, word)
}

// WriteAwaiting writes plan -check -require-approval's list of the images
// that await a pick or an approval, one a line, indented.
func WriteAwaiting(w io.Writer, list []planner.Awaiting) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s a pick or an approval:\n", Plural(len(list), "image")+" "+verbOf(len(list), "awaits", "await"))
	for _, a := range list {
		b.WriteString("  " + awaitingLine(a) + "\n")
	}
	io.WriteString(w, b.String())
}

func verbOf(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// writeMarkdownReview appends the review section of a markdown plan: the
// images that will await a pick or an approval, when the project uses
// candidates or approvals at all.
func writeMarkdownReview(b *strings.Builder, p *planner.Plan) {
	if !planner.UsesReview(p) {
		return
	}
	list := planner.AwaitingReview(p)
	if len(list) == 0 {
		b.WriteString("\nReview: every image is picked and approved.\n")
		return
	}
	fmt.Fprintf(b, "\n**Awaiting review: %s**\n\n", Plural(len(list), "image"))
	for _, a := range list {
		if b.Len() > MarkdownBudget {
			b.WriteString("- _… and more; `pixform plan -check -require-approval` lists them all._\n")
			break
		}
		fmt.Fprintf(b, "- %s\n", cell(awaitingLine(a)))
	}
}
