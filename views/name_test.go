package views

import (
	"bytes"
	"strings"
	"testing"

	"github.com/pixform/pixform/state"
)

// show prints an approver's name quoted and escaped, so that a name that
// got into a lockfile cannot forge a line or reach the terminal raw.
func TestEntryNameEscaped(t *testing.T) {
	for name, want := range map[string]string{
		"Ann":                   `by "Ann" at`,
		"Ann\x1b[2J":            `by "Ann\x1b[2J" at`,
		"Ann\n  approved: Boss": `by "Ann\n  approved: Boss" at`,
		"Ann\u202eSSOB":         `by "Ann\u202eSSOB" at`,
		"Ann\u009b2J":           `by "Ann\u009b2J" at`,
	} {
		var buf bytes.Buffer
		WriteEntry(&buf, "image.logo", state.Entry{Path: "logo.png", SHA256: strings.Repeat("a", 64), Approved: &state.Approval{By: name, At: "2026-11-29T12:30:00Z"}}, false)
		out := buf.String()
		if !strings.Contains(out, want) || strings.ContainsAny(out, "\x1b\u202e\u009b") || strings.Contains(out, "\n  approved: Boss") {
			t.Errorf("name %q printed as:\n%s", name, out)
		}
	}
}
