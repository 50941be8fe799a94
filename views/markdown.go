package views

import (
	"fmt"
	"io"
	"strings"

	"github.com/pixform/pixform/planner"
)

// WritePlanMarkdown renders a plan as GitHub-flavoured markdown for a pull
// request comment or $GITHUB_STEP_SUMMARY: the counts and cost up front,
// the changes in a collapsible table with each prompt's before and after.
func WritePlanMarkdown(w io.Writer, p *planner.Plan) error {
	var b strings.Builder
	s := p.Summary
	b.WriteString("### pixform plan\n\n")
	if !p.HasChanges() {
		fmt.Fprintf(&b, "**No changes.** %s up to date.\n", plural(s.NoOp, "image"))
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(&b, "**%d to create, %d to replace, %d to move, %d to delete**, %d unchanged\n\n", s.Create, s.Replace, s.Move, s.Delete, s.NoOp)
	fmt.Fprintf(&b, "Cost: **%s, %s**", plural(s.Requests, "request"), plural(s.Credits, "credit"))
	if s.UnpricedRequests > 0 {
		fmt.Fprintf(&b, " (+ %s of sdxl-1.0, which the vendor does not price)", plural(s.UnpricedRequests, "request"))
	}
	if p.Provider == planner.Draft {
		b.WriteString(" (draft renderer, offline)")
	}
	b.WriteString("\n\n")
	n := s.Create + s.Replace + s.Move + s.Delete
	fmt.Fprintf(&b, "<details><summary>%s</summary>\n\n", plural(n, "change"))
	b.WriteString("| | Image | Action | Path | Prompt | Why |\n|---|---|---|---|---|---|\n")
	for i := range p.Changes {
		c := &p.Changes[i]
		if c.Action == planner.NoOp {
			continue
		}
		prompt := cell(c.Inputs.Prompt)
		switch {
		case c.Action == planner.Delete:
			prompt = ""
			if c.Prior != nil {
				prompt = "~~" + cell(c.Prior.Inputs.Prompt) + "~~"
			}
		case c.Prior != nil && c.Prior.Inputs.Prompt != c.Inputs.Prompt:
			prompt = "**before:** " + cell(c.Prior.Inputs.Prompt) + "<br>**after:** " + cell(c.Inputs.Prompt)
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s | `%s` | %s | %s |\n",
			mdSymbol(c.Action), c.Addr, c.Action, cell(pathPhrase(c)), prompt, cell(strings.Join(c.Reasons, "; ")))
	}
	b.WriteString("\n</details>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func mdSymbol(a planner.Action) string {
	switch a {
	case planner.Create:
		return "🟢"
	case planner.Replace:
		return "🟡"
	case planner.Move:
		return "🔵"
	case planner.Delete:
		return "🔴"
	}
	return ""
}

// cell escapes text for a markdown table cell.
func cell(s string) string {
	r := strings.NewReplacer("|", `\|`, "\n", " ", "\r", "", "<", "&lt;", ">", "&gt;", "`", "'")
	return r.Replace(s)
}
