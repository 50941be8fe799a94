package views

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// WriteDiagnostics prints diagnostics, each with its file:line:col, the
// source line with the range underlined, and the detail: what happened,
// where, and what to do.
func WriteDiagnostics(w io.Writer, diags hcl.Diagnostics, files map[string]*hcl.File, color bool) error {
	pal := palette{color}
	var b strings.Builder
	for _, d := range diags {
		label, paint := "Error", pal.red
		if d.Severity == hcl.DiagWarning {
			label, paint = "Warning", pal.yellow
		}
		fmt.Fprintf(&b, "%s %s\n", paint(label+":"), pal.bold(d.Summary))
		if r := d.Subject; r != nil {
			ctx := ""
			if c := contextOf(files[r.Filename], *r); c != "" {
				ctx = ", in " + c
			}
			fmt.Fprintf(&b, "\n  on %s:%d:%d%s:\n", r.Filename, r.Start.Line, r.Start.Column, ctx)
			if _, hide := d.Extra.(hiddenSource); !hide {
				writeSnippet(&b, pal, files[r.Filename], *r)
			}
		}
		if d.Detail != "" {
			b.WriteString("\n")
			for _, line := range wrap(d.Detail, 100) {
				b.WriteString(line + "\n")
			}
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// hiddenSource, as a diagnostic's Extra, keeps its source line out of the
// text: a line that may hold a secret (a store URL with credentials,
// which the diagnostic refuses) is not printed to a CI log.
type hiddenSource struct{}

// contextOf names the block around a range (image "hero"), as HCL's own
// diagnostic writer does.
func contextOf(f *hcl.File, r hcl.Range) string {
	if f == nil {
		return ""
	}
	if cs, ok := f.Nav.(interface{ ContextString(offset int) string }); ok {
		return cs.ContextString(r.Start.Byte)
	}
	return ""
}

// snippetWidth is the most characters of a source line a snippet shows:
// a longer line (a minified or generated file, 400 KB on one line) is cut
// to the part around the subject, marked … where it is cut.
const snippetWidth = 120

// writeSnippet prints the subject's first line with the range underlined.
func writeSnippet(b *strings.Builder, pal palette, f *hcl.File, r hcl.Range) {
	line := sourceLine(f, r.Start.Line)
	if line == "" {
		return
	}
	prefix := fmt.Sprintf("  %4d: ", r.Start.Line)
	start := r.Start.Column - 1
	end := -1 // to the end of the line
	if r.End.Line == r.Start.Line {
		end = r.End.Column - 1
	}
	// Columns count characters; the underline is drawn in characters too.
	runes := []rune(strings.ReplaceAll(line, "\t", " "))
	if end < 0 || end > len(runes) {
		end = len(runes)
	}
	start = min(start, len(runes))
	if len(runes) > snippetWidth {
		from := max(0, min(start-snippetWidth/3, len(runes)-snippetWidth))
		to := min(len(runes), from+snippetWidth)
		cut := append([]rune(nil), runes[from:to]...)
		shift := -from
		if from > 0 {
			cut = append([]rune("…"), cut...)
			shift++
		}
		if to < len(runes) {
			cut = append(cut, '…')
		}
		start, end = start+shift, min(end, to)+shift
		runes = cut
	}
	b.WriteString(prefix + string(runes) + "\n")
	if end <= start {
		end = start + 1
	}
	b.WriteString(strings.Repeat(" ", len(prefix)+start) + pal.red(strings.Repeat("^", end-start)) + "\n")
}

// sourceLine returns line n (1-based) of f, or "".
func sourceLine(f *hcl.File, n int) string {
	if f == nil || n < 1 {
		return ""
	}
	src := f.Bytes
	for i := 1; i < n; i++ {
		j := bytes.IndexByte(src, '\n')
		if j < 0 {
			return ""
		}
		src = src[j+1:]
	}
	if j := bytes.IndexByte(src, '\n'); j >= 0 {
		src = src[:j]
	}
	return strings.TrimRight(string(src), "\r")
}

// wrap breaks text into lines of at most width characters at spaces,
// keeping the text's own line breaks.
func wrap(text string, width int) []string {
	var out []string
	for _, para := range strings.Split(text, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			switch {
			case line == "":
				line = word
			case len(line)+1+len(word) > width:
				out = append(out, line)
				line = word
			default:
				line += " " + word
			}
		}
		out = append(out, line)
	}
	return out
}

// Hinted is an error that carries advice for the user, printed as hint:
// lines below it.
type Hinted struct {
	Err   error
	Hints []string
}

func (h *Hinted) Error() string { return h.Err.Error() }

func (h *Hinted) Unwrap() error { return h.Err }

// WithHint wraps err with hints.
func WithHint(err error, hints ...string) error {
	if err == nil {
		return nil
	}
	return &Hinted{Err: err, Hints: hints}
}

// WriteError prints err as "pixform: error: …" followed by any hint: lines
// found in its chain.
func WriteError(w io.Writer, err error, color bool) {
	pal := palette{color}
	msg := strings.TrimSpace(err.Error())
	fmt.Fprintf(w, "%s %s\n", pal.red("pixform: error:"), msg)
	for _, hint := range hintsOf(err) {
		fmt.Fprintf(w, "%s %s\n", pal.yellow("hint:"), hint)
	}
}

// hintsOf is what to do about err: the hints in its chain, then the image
// store's.
func hintsOf(err error) []string {
	var hints []string
	var h *Hinted
	if errors.As(err, &h) {
		hints = append(hints, h.Hints...)
	}
	return append(hints, storeHints(err)...)
}

// WriteValid prints validate's success line.
func WriteValid(w io.Writer, images int, color bool) {
	pal := palette{color}
	fmt.Fprintf(w, "%s The configuration is valid: %s.\n", pal.green(pal.bold("Success!")), Plural(images, "image"))
}
