package views

import (
	"fmt"
	"io"
	"strings"

	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
)

// WritePlanMarkdown renders a plan as GitHub-flavoured markdown for a pull
// request comment or $GITHUB_STEP_SUMMARY: the counts and cost up front,
// the changes in a collapsible table with each prompt's before and after.
func WritePlanMarkdown(w io.Writer, p *planner.Plan) error {
	var b strings.Builder
	s := p.Summary
	b.WriteString("### pixform plan\n\n")
	if !p.HasChanges() {
		fmt.Fprintf(&b, "**No changes.** %s up to date.\n", Plural(s.NoOp, "image"))
		if s.Upload > 0 {
			fmt.Fprintf(&b, "\nImage store: **%d to upload** (no request, no credit).\n", s.Upload)
		}
		writeMarkdownReview(&b, p)
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(&b, "**%d to create, %d to replace, %d to move, %d to delete**, %d unchanged\n\n", s.Create, s.Replace, s.Move, s.Delete, s.NoOp)
	fmt.Fprintf(&b, "Cost: **%s, %s**", Plural(s.Requests, "request"), Plural(s.Credits, "credit"))
	if s.UnpricedRequests > 0 {
		costs := planner.CostByEndpoint(p.Changes)
		if len(costs) == 1 && costs[0].Endpoint == planner.EndpointTextToImage {
			fmt.Fprintf(&b, " (the credits leave out %s of sdxl-1.0, which the vendor does not price)", Plural(s.UnpricedRequests, "request"))
		} else {
			fmt.Fprintf(&b, " (the credits leave out %s: %s)", Plural(s.UnpricedRequests, "unpriced request"), unpricedNote(costs))
		}
	}
	if p.Provider == providers.Draft {
		b.WriteString(" (draft renderer, offline)")
	}
	if s.Refused > 0 {
		b.WriteString("; " + refusedNote(s))
	}
	b.WriteString("\n\n")
	if s.FromStore > 0 || s.Upload > 0 {
		fmt.Fprintf(&b, "Image store: **%d to restore from store, %d to upload** (no request, no credit)\n\n", s.FromStore, s.Upload)
	}
	n := s.Create + s.Replace + s.Move + s.Delete
	fmt.Fprintf(&b, "<details><summary>%s</summary>\n\n", Plural(n, "change"))
	b.WriteString("| | Image | Action | Path | Prompt | Why |\n|---|---|---|---|---|---|\n")
	shown := 0
	for i := range p.Changes {
		c := &p.Changes[i]
		if c.Action == planner.NoOp {
			continue
		}
		if b.Len() > MarkdownBudget {
			fmt.Fprintf(&b, "\n_… and %d more %s, left out to keep this summary within a pull-request comment; `pixform show PLANFILE` lists them all._\n", n-shown, pluralWord(n-shown, "change"))
			break
		}
		shown++
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
		action := c.Action.String()
		if c.FromStore {
			action += " (restore from store)"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n",
			mdSymbol(c.Action), code(c.Addr.String()), action, code(pathPhrase(c)), prompt, cell(strings.Join(mdReasons(c.Reasons), "; ")))
	}
	b.WriteString("\n</details>\n")
	writeMarkdownReview(&b, p)
	_, err := io.WriteString(w, b.String())
	return err
}

// mdReasons shortens the reasons for the table: the prompt column already
// shows a changed prompt's before and after.
func mdReasons(reasons []string) []string {
	out := make([]string, 0, len(reasons))
	for _, r := range reasons {
		if strings.HasPrefix(r, "prompt changed: ") {
			r = "prompt changed"
		}
		out = append(out, r)
	}
	return out
}

func pluralWord(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
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

// MarkdownBudget is about how many bytes WritePlanMarkdown writes before
// it leaves the remaining rows out: a GitHub comment holds 65536
// characters.
const MarkdownBudget = 60000

// cell escapes text for a markdown table cell, keeping it on one line and
// showing it exactly as written: the pipe that would end the cell, HTML,
// entities, and the characters markdown would read as emphasis, links or
// code are escaped; line breaks become spaces. A zero-width space after
// "@" and "#", and inside "://", "www." and "GH-", keeps GitHub from reading a
// prompt's text as a mention (a pull request's prompt would notify whom it
// names), an issue reference or a link, while it reads the same.
//
// Control characters and bidirectional controls (an escape sequence, a
// right-to-left override) are shown as their Go escapes (\x1b, \u202e): the
// Markdown is read in terminals too (pixform show -format=markdown),
// where a raw one would drive the terminal, and in reviews, where it
// would hide or reorder text.
func cell(s string) string {
	return cellEscaper.Replace(visibleControls(s))
}

var cellEscaper = strings.NewReplacer(
	"|", `\|`, "\r\n", " ", "\n", " ", "\r", " ",
	"&", "&amp;", "<", "&lt;", ">", "&gt;", "`", "&#96;",
	`\`, `\\`, "*", `\*`, "_", `\_`, "~", `\~`, "[", `\[`, "]", `\]`,
	"@", "@\u200b", "#", "#\u200b", "://", ":\u200b//",
	"www.", "www\u200b.", "WWW.", "WWW\u200b.", "Www.", "Www\u200b.",
	"GH-", "GH\u200b-", "gh-", "gh\u200b-", "Gh-", "Gh\u200b-",
)

// code shows text as code in a table cell: a code span when that can hold
// it, else <code> around escaped text.
func code(s string) string {
	if !strings.ContainsAny(s, "`\r\n") && !strings.ContainsFunc(s, hiddenRune) {
		return "`" + strings.ReplaceAll(s, "|", `\|`) + "`"
	}
	return "<code>" + cell(s) + "</code>"
}
