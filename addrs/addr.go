package addrs

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// KeyKind says how an Addr is keyed: not at all, by a for_each key, or by a
// count index.
type KeyKind uint8

// Key kinds of an Addr.
const (
	NoKey KeyKind = iota
	StringKey
	IntKey
)

// Addr is the immutable address of one image instance: image.hero,
// image.icon["home"] or image.variant[0]. It is the key of the lockfile, of
// sorting, and of -target and -replace.
type Addr struct {
	Name  string
	Kind  KeyKind
	Key   string // for_each key, when Kind == StringKey
	Index int    // count index, when Kind == IntKey
}

// String renders the address as users write it.
func (a Addr) String() string {
	switch a.Kind {
	case StringKey:
		if plainKey(a.Key) {
			return "image." + a.Name + "[\"" + a.Key + "\"]"
		}
		return "image." + a.Name + "[" + strconv.Quote(a.Key) + "]"
	case IntKey:
		return "image." + a.Name + "[" + strconv.Itoa(a.Index) + "]"
	default:
		return "image." + a.Name
	}
}

// ShellWord renders the address as one word of a POSIX shell command, for
// a hint that prints a command to paste: as String when a shell leaves it
// alone (image.hero), else in single quotes ('image.icons["home"]'; a
// shell would drop the key's quotes, and glob [0]); a single quote in a
// key closes the quotes, is escaped with a backslash, and opens them
// again. Every hint that prints an address in a command, or in
// a flag such as -target=, prints this.
func (a Addr) ShellWord() string { return ShellQuote(a.String()) }

// ShellQuote is ShellWord for an address (or any word) as a string: as
// it is when every byte is one a shell leaves alone, else (and when it is
// empty) in single quotes.
func ShellQuote(s string) string {
	if s != "" && !strings.ContainsFunc(s, unsafeInShell) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
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

// plainKey reports whether strconv.Quote would only add quotes around k:
// printable ASCII without a quote or a backslash.
func plainKey(k string) bool {
	for i := 0; i < len(k); i++ {
		if c := k[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// Equal reports whether two addresses name the same instance.
func (a Addr) Equal(b Addr) bool { return a == b }

// Less orders addresses by block name, then unkeyed before keyed, then by
// key or numeric index.
func (a Addr) Less(b Addr) bool {
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	if a.Kind != b.Kind {
		return a.Kind < b.Kind
	}
	switch a.Kind {
	case StringKey:
		return a.Key < b.Key
	case IntKey:
		return a.Index < b.Index
	}
	return false
}

// Compare returns -1, 0 or +1 as a sorts before, with, or after b.
func (a Addr) Compare(b Addr) int {
	// Less's order, in one pass.
	if c := strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	if a.Kind != b.Kind {
		if a.Kind < b.Kind {
			return -1
		}
		return 1
	}
	switch a.Kind {
	case StringKey:
		return strings.Compare(a.Key, b.Key)
	case IntKey:
		return cmp.Compare(a.Index, b.Index)
	}
	return 0
}

// Block returns the address of the whole block (image.icon for
// image.icon["home"]); -target=image.icon selects every instance.
func (a Addr) Block() Addr { return Addr{Name: a.Name} }

// Parse parses an address as String renders it. It accepts the
// "image." prefix as optional so that -target=hero works too.
func Parse(s string) (Addr, error) {
	orig := s
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "image.")
	name := s
	rest := ""
	if i := strings.IndexByte(s, '['); i >= 0 {
		name, rest = s[:i], s[i:]
	}
	if !ValidName(name) {
		return Addr{}, fmt.Errorf("invalid image address %q: expected image.NAME, image.NAME[\"key\"] or image.NAME[0]", orig)
	}
	a := Addr{Name: name}
	if rest == "" {
		return a, nil
	}
	if !strings.HasSuffix(rest, "]") {
		return Addr{}, fmt.Errorf("invalid image address %q: missing closing ]", orig)
	}
	inner := rest[1 : len(rest)-1]
	switch {
	case strings.HasPrefix(inner, `"`):
		k, err := strconv.Unquote(inner)
		if err != nil {
			return Addr{}, fmt.Errorf("invalid image address %q: bad key string: %v", orig, err)
		}
		a.Kind, a.Key = StringKey, k
	default:
		n, err := strconv.Atoi(inner)
		if err != nil || n < 0 {
			return Addr{}, fmt.Errorf("invalid image address %q: index must be a whole number or a quoted key", orig)
		}
		a.Kind, a.Index = IntKey, n
	}
	return a, nil
}

// ValidName reports whether s is an HCL identifier: a block or variable name.
func ValidName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
		case i > 0 && (r == '-' || r >= '0' && r <= '9'):
		default:
			return false
		}
	}
	return true
}

// CompareStrings orders address strings (lockfile keys) as their
// addresses: image.a[9] before image.a[10]. It is the one canonical order
// of lockfile keys. Strings that do not parse, which the lockfile reader
// rejects, sort last, by text.
func CompareStrings(a, b string) int {
	x, errX := Parse(a)
	y, errY := Parse(b)
	return compareParsed(a, x, errX == nil, b, y, errY == nil)
}

func compareParsed(a string, x Addr, okX bool, b string, y Addr, okY bool) int {
	switch {
	case okX != okY && okX:
		return -1
	case okX != okY:
		return 1
	case okX:
		if c := x.Compare(y); c != 0 {
			return c
		}
	}
	return strings.Compare(a, b)
}

// SortStrings sorts address strings in place in CompareStrings order,
// parsing each once.
func SortStrings(keys []string) {
	type keyed struct {
		key  string
		addr Addr
		ok   bool
	}
	ks := make([]keyed, len(keys))
	for i, k := range keys {
		a, err := Parse(k)
		ks[i] = keyed{k, a, err == nil}
	}
	slices.SortFunc(ks, func(a, b keyed) int { return compareParsed(a.key, a.addr, a.ok, b.key, b.addr, b.ok) })
	for i, k := range ks {
		keys[i] = k.key
	}
}

// MustParse is Parse for addresses known to be valid, such as constants in
// tests; it panics on an invalid one.
func MustParse(s string) Addr {
	a, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return a
}

// IsZero reports whether a is the zero Addr, which names no image: an
// absent address.
func (a Addr) IsZero() bool { return a == Addr{} }
