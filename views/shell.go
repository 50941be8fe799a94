package views

import (
	"strings"
	"unicode/utf8"
)

// ShellCommand joins args into a command line that a POSIX shell reads
// back as those very words: a word of only plain characters as it is,
// any other in single quotes (a quote inside as '\”), so that a space,
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
		if a != "" && !strings.ContainsFunc(a, unsafeInShell) {
			b.WriteString(a)
			continue
		}
		b.WriteByte('\'')
		b.WriteString(strings.ReplaceAll(a, "'", `'\''`))
		b.WriteByte('\'')
	}
	return b.String(), true
}

// unsafeInShell reports whether r, in a word a shell reads, may mean
// something other than itself.
func unsafeInShell(r rune) bool {
	switch {
	case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		return false
	}
	return !strings.ContainsRune("-_=./,:@%+", r)
}
