package views

import (
	"strings"
	"unicode/utf8"

	"github.com/pixform/pixform/addrs"
)

// ShellCommand joins args into a command line that a POSIX shell reads
// back as those very words, each quoted by addrs.ShellQuote, so that a space,
// a quote, a $ or a glob in a value copied from a hint does nothing. It
// reports false, and returns "", when a word holds a line break, another
// control character, a bidirectional control or invalid UTF-8: shown in
// a terminal, such a word would not read as it is, and no command is
// offered then.
func ShellCommand(args ...string) (string, bool) {
	var b strings.Builder
	for i, a := range args {
		if !utf8.ValidString(a) || strings.ContainsFunc(a, func(r rune) bool { return r == '\r' || r == '\n' || hiddenRune(r) }) {
			return "", false
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(addrs.ShellQuote(a))
	}
	return b.String(), true
}
