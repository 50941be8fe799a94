package safepath

import (
	"strings"
	"unicode/utf8"
)

// winNameProblem says what makes the slash path p (already free of
// backslashes, control characters and drive letters) name, on Windows,
// something other than the file it spells, or "" when nothing does:
//   - a colon, which names a stream of a file (a.png:x writes beside
//     a.png's bytes, a.png::$DATA is a.png) or a drive;
//   - a character Windows allows in no file name (< > " | ? *);
//   - a component ending in a dot or a space, which Windows drops
//     (a.png. opens a.png);
//   - a device name (NUL, CON, PRN, AUX, COM1…, LPT1…, CONIN$, CONOUT$),
//     which Windows takes for the device whatever the extension;
//   - a tilde followed by a digit, which may be the short (8.3) name of
//     another file: GIT~1 opens .git, PIXFOR~1 opens .pixform.
//
// Check applies it on Windows only (winNames), where the file system
// acts on these names; elsewhere they are plain names.
func winNameProblem(p string) string {
	for c := range strings.SplitSeq(p, "/") {
		if strings.IndexByte(c, ':') >= 0 {
			return "contains a colon, which on Windows names a stream of a file or a drive"
		}
		if strings.ContainsAny(c, `<>"|?*`) {
			return `contains a character that Windows allows in no file name (< > " | ? *)`
		}
		if last := c[len(c)-1]; last == '.' || last == ' ' {
			return "has a component ending in a dot or a space, which Windows drops (it would open another file)"
		}
		if isDevice(c) {
			return "has a component that Windows takes for a device (NUL, CON, PRN, AUX, COM1, LPT1, whatever the extension)"
		}
		if hasTildeDigit(c) {
			return "has a component that may be the short (8.3) name Windows gives another file (GIT~1 opens .git): rename it without ~ and a digit"
		}
	}
	return ""
}

// isDevice reports whether the path component c names a DOS device: its
// part before the first dot, less trailing spaces, is one, in any case.
func isDevice(c string) bool {
	base, _, _ := strings.Cut(c, ".")
	base = strings.TrimRight(base, " ")
	if len(base) < 3 || len(base) > 7 {
		return false
	}
	switch u := strings.ToUpper(base); u {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	default:
		if len(u) < 4 || u[:3] != "COM" && u[:3] != "LPT" {
			return false
		}
		r, n := utf8.DecodeRuneInString(u[3:])
		return 3+n == len(u) && ('0' <= r && r <= '9' || r == '¹' || r == '²' || r == '³')
	}
}

// hasTildeDigit reports whether s holds a tilde followed by a digit.
func hasTildeDigit(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '~' && '0' <= s[i+1] && s[i+1] <= '9' {
			return true
		}
	}
	return false
}
