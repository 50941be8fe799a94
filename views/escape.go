package views

import (
	"unicode"
	"unicode/utf8"

	"github.com/pixform/pixform/internal/safepath"
)

// visibleControls replaces each control character or bidirectional control of s,
// but for the line breaks cell turns into spaces, by its Go escape.
func visibleControls(s string) string { return safepath.EscapeRunes(s, hiddenRune) }

// visibleText replaces each control character or bidirectional control of s, line
// breaks included, by its Go escape: for text from a configuration or a
// lockfile (a prompt's diff) in a line of the text views, where a raw one
// would drive the terminal or forge a line.
func visibleText(s string) string { return safepath.Visible(s) }

// hiddenRune reports whether r, other than \r and \n, is a control
// character (Unicode Cc: a terminal acts on it), a bidirectional control
// (it reorders what is shown: safepath.IsBidiControl) or invalid UTF-8.
// Other formatting characters show as they are: a zero-width joiner
// holds an emoji together.
func hiddenRune(r rune) bool {
	return r != '\r' && r != '\n' && (unicode.Is(unicode.Cc, r) || safepath.IsBidiControl(r) || r == utf8.RuneError)
}
