package views

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// TestSnippetLongLine: a snippet of a line longer than snippetWidth shows
// the part around the subject, cut with …, and underlines the subject
// there; a short line is shown whole.
func TestSnippetLongLine(t *testing.T) {
	long := "  prompt = " + strings.Repeat("(", 400000)
	tests := []struct {
		name, line  string
		col, endCol int
		want        string
	}{
		{"short", "  promt = \"x\"", 3, 8, "     1:   promt = \"x\"\n          ^^^^^\n"},
		{"long, deep in it", long, 267, 268,
			"     1: …" + strings.Repeat("(", 120) + "…\n" + strings.Repeat(" ", 8+1+40) + "^\n"},
		{"long, at its start", long, 3, 9,
			"     1:   prompt = " + strings.Repeat("(", 109) + "…\n          ^^^^^^\n"},
		{"long, at its end", "x = " + strings.Repeat("[", 300) + "y", 305, 306,
			"     1: …" + strings.Repeat("[", 119) + "y\n" + strings.Repeat(" ", 8+120) + "^\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &hcl.File{Bytes: []byte(tt.line + "\n")}
			var b strings.Builder
			writeSnippet(&b, palette{}, f, hcl.Range{Start: hcl.Pos{Line: 1, Column: tt.col}, End: hcl.Pos{Line: 1, Column: tt.endCol}})
			if b.String() != tt.want {
				t.Errorf("got\n%s\nwant\n%s", b.String(), tt.want)
			}
		})
	}
}
