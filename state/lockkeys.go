package state

import (
	"bytes"
	"encoding/json"
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

// checkEntryKeys checks the keys of raw, one entry of "images" (a whole
// JSON value, which the decoder that read it found valid), and of the
// objects in it (inputs, approved, each of takes): each must be a field
// name spelt exactly as Marshal writes it, letter case included, and
// appear once. It returns the offset in raw of the first key that is
// not, and what is wrong with it; msg is "" when every key is right.
// Values are not looked at: decoding the entry checks them.
func checkEntryKeys(raw []byte) (off int64, msg string) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	k := keyChecker{dec: dec}
	k.object("the entry", entryKeys, func(key string) bool {
		switch key {
		case "inputs":
			k.object("inputs", inputsKeys, nil)
		case "approved":
			k.object("approved", approvalKeys, nil)
		case "takes":
			k.array("takes", takeKeys)
		default:
			return false
		}
		return true
	})
	return k.off, k.msg
}

// keyChecker walks a value's tokens, checking the keys of its objects;
// it stops at the first wrong key (msg, off) or token error.
type keyChecker struct {
	dec *json.Decoder
	off int64
	msg string
	bad bool // stop: msg set, or a token error (the decoder says it)
}

// object reads a value that should be an object named where, whose keys
// are known. nested, when not nil, reads the value of a key itself and
// reports true, or reports false to have it skipped. A value that is not
// an object is skipped: its decoding says what is wrong with it.
func (k *keyChecker) object(where string, known []string, nested func(key string) bool) {
	if !k.open('{') {
		return
	}
	var seen []string
	for !k.bad && k.dec.More() {
		off := k.dec.InputOffset()
		t, err := k.dec.Token()
		if err != nil {
			k.bad = true
			return
		}
		key, _ := t.(string)
		switch {
		case slices.Contains(seen, key):
			k.fail(off, fmt.Sprintf("field %q appears twice in %s (both sides of a merge conflict kept?): keep one", key, where))
			return
		case !slices.Contains(known, key):
			k.fail(off, unknownKey(key, where, known))
			return
		}
		seen = append(seen, key)
		if nested == nil || !nested(key) {
			k.skip()
		}
	}
	if !k.bad {
		k.close()
	}
}

// array reads a value that should be an array of objects named where[i]
// with the keys known.
func (k *keyChecker) array(where string, known []string) {
	if !k.open('[') {
		return
	}
	for i := 0; !k.bad && k.dec.More(); i++ {
		k.object(fmt.Sprintf("%s[%d]", where, i), known, nil)
	}
	if !k.bad {
		k.close()
	}
}

// open reads the next token, reporting whether it is the delimiter d; any
// other value is skipped.
func (k *keyChecker) open(d json.Delim) bool {
	t, err := k.dec.Token()
	if err != nil {
		k.bad = true
		return false
	}
	if t == d {
		return true
	}
	if o, ok := t.(json.Delim); ok && (o == '{' || o == '[') {
		k.skipOpen()
	}
	return false
}

// close reads the delimiter that ends the object or array open read.
func (k *keyChecker) close() {
	if _, err := k.dec.Token(); err != nil {
		k.bad = true
	}
}

// skip reads one value, whatever it is.
func (k *keyChecker) skip() {
	t, err := k.dec.Token()
	if err != nil {
		k.bad = true
		return
	}
	if o, ok := t.(json.Delim); ok && (o == '{' || o == '[') {
		k.skipOpen()
	}
}

// skipOpen reads the rest of an object or array whose opening delimiter
// was read. Its keys are not checked: only the objects pixform writes
// are.
func (k *keyChecker) skipOpen() {
	for depth := 1; depth > 0; {
		t, err := k.dec.Token()
		if err != nil {
			k.bad = true
			return
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
}

func (k *keyChecker) fail(off int64, msg string) {
	k.off, k.msg, k.bad = off, msg, true
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
