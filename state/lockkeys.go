package state

import (
	"fmt"
	"slices"
	"strings"
)

// The field names of a lockfile entry and of the objects in it, exactly
// as Marshal writes them (TestLockKeysMatchTags holds them to the
// struct tags).
var (
	entryKeys    = []string{"inputs", "provider", "path", "sha256", "bytes", "media_type", "width", "height", "takes", "picked", "approved"}
	inputsKeys   = []string{"prompt", "style", "aspect_ratio", "seed", "operation", "source", "source_sha256", "mask", "mask_sha256", "transparent", "resize", "crop", "quality", "candidates"}
	takeKeys     = []string{"seed", "sha256", "bytes", "media_type", "width", "height"}
	approvalKeys = []string{"by", "at", "sha256"}
)

// valueOffset returns the offset in data of the value that follows the
// object key a decoder has just read, whose InputOffset is off: past the
// blanks and the colon.
func valueOffset(data []byte, off int64) int64 {
	for off < int64(len(data)) && strings.IndexByte(" \t\r\n:", data[off]) >= 0 {
		off++
	}
	return off
}

// checkEntryKeys checks the keys of raw, one entry of "images", a whole
// JSON value that a decoder found valid, and those of the objects in it
// (inputs, approved, each of takes): each must be, byte for byte, a field
// name as Marshal writes it (no other letter case, no escape) and appear
// once in its object. encoding/json would match a name in any letter
// case, or spelt with escapes, and keep the last of repeated ones. It
// returns the offset in raw of the first key that is not so, and what is
// wrong with it; msg is "" when every key is right. Values are not looked
// at: decoding the entry checks them.
func checkEntryKeys(raw []byte) (off int64, msg string) {
	s := keyScan{b: raw}
	s.object("the entry", entryKeys, func(key string) bool {
		switch key {
		case "inputs":
			s.object("inputs", inputsKeys, nil)
		case "approved":
			s.object("approved", approvalKeys, nil)
		case "takes":
			s.array("takes", takeKeys)
		default:
			return false
		}
		return true
	})
	return int64(s.off), s.msg
}

// keyScan walks valid JSON byte by byte, checking the keys of the objects
// it is told about; it stops at the first wrong key (msg, off).
type keyScan struct {
	b   []byte
	i   int
	off int
	msg string
}

func (s *keyScan) ws() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

// object reads a value that should be an object named where, whose keys
// are known. nested, when not nil, reads the value of a key itself and
// reports true, or reports false to have it skipped. A value that is not
// an object is skipped: its decoding says what is wrong with it.
func (s *keyScan) object(where string, known []string, nested func(key string) bool) {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		s.skip()
		return
	}
	s.i++
	var seen [16]string // at most len(inputsKeys) are accepted
	n := 0
	for s.msg == "" {
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] == '}' {
			s.i++
			return
		}
		if s.b[s.i] == ',' {
			s.i++
			s.ws()
		}
		at := s.i
		key := s.str()
		switch {
		case strings.IndexByte(key, '\\') >= 0:
			s.fail(at, fmt.Sprintf("field %q in %s is spelt with an escape: pixform reads field names exactly as it writes them", key, where))
			return
		case slices.Contains(seen[:n], key):
			s.fail(at, fmt.Sprintf("field %q appears twice in %s (both sides of a merge conflict kept?): keep one", key, where))
			return
		case !slices.Contains(known, key):
			s.fail(at, unknownKey(key, where, known))
			return
		}
		seen[n] = key
		n++
		s.ws()
		s.i++ // ':'
		if nested == nil || !nested(key) {
			s.skip()
		}
	}
}

// array reads a value that should be an array of objects named where[i]
// with the keys known.
func (s *keyScan) array(where string, known []string) {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '[' {
		s.skip()
		return
	}
	s.i++
	for k := 0; s.msg == ""; k++ {
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] == ']' {
			s.i++
			return
		}
		if s.b[s.i] == ',' {
			s.i++
		}
		s.object(fmt.Sprintf("%s[%d]", where, k), known, nil)
	}
}

// str reads a string and returns what is between its quotes, as written.
func (s *keyScan) str() string {
	start := s.i + 1
	for s.i = start; s.i < len(s.b) && s.b[s.i] != '"'; s.i++ {
		if s.b[s.i] == '\\' {
			s.i++
		}
	}
	end := min(s.i, len(s.b))
	s.i++
	return string(s.b[start:end])
}

// skip reads one value, whatever it is.
func (s *keyScan) skip() {
	s.ws()
	depth := 0
	for s.i < len(s.b) {
		switch c := s.b[s.i]; c {
		case '"':
			s.str()
		case '{', '[':
			depth++
			s.i++
		case '}', ']':
			if depth == 0 {
				return
			}
			depth--
			s.i++
		case ',':
			if depth == 0 {
				return
			}
			s.i++
		default:
			s.i++
		}
		if depth == 0 && (s.i >= len(s.b) || s.b[s.i] == ',' || s.b[s.i] == '}' || s.b[s.i] == ']' || s.b[s.i] <= ' ') {
			return
		}
	}
}

func (s *keyScan) fail(at int, msg string) {
	s.off, s.msg = at, msg
}

// unknownKey words a key of where that is none of known, naming the one
// it is in another letter case.
func unknownKey(key, where string, known []string) string {
	for _, n := range known {
		if strings.EqualFold(n, key) {
			return fmt.Sprintf("unknown field %q in %s: pixform writes it %q, and reads field names exactly, letter case included (an edit by hand, or a pull request's?)", key, where, n)
		}
	}
	return fmt.Sprintf("unknown field %q in %s", key, where)
}
