package state

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/internal/safepath"
	"github.com/pixform/pixform/media"
	"github.com/pixform/pixform/providers"
)

// digestDomain separates Inputs digests from any other SHA-256 pixform
// computes, and versions the encoding.
const digestDomain = "pixform.inputs.v1\x00"

// Digest returns the lower-case hex SHA-256 of a canonical encoding of the
// inputs: every string is length-prefixed and the seed is fixed-width, so
// inputs that differ in any field never share an encoding. It keys the
// content cache.
func (in Inputs) Digest() string {
	h := sha256.New()
	var n [8]byte
	h.Write([]byte(digestDomain))
	for _, s := range [...]string{in.Prompt, in.Style, in.AspectRatio} {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	binary.BigEndian.PutUint64(n[:], uint64(in.Seed))
	h.Write(n[:])
	// The derived fields follow only when set, so that the digest of
	// other inputs, and the content cache's keys, stay as they were.
	if in.Derived() || in.Transparent {
		transparent := ""
		if in.Transparent {
			transparent = "true"
		}
		// The source is keyed by its hash, not its name: renaming the
		// image or moving the file it is made from changes no bytes.
		for _, s := range [...]string{"derived", in.Operation, in.SourceSHA256, in.Mask, in.MaskSHA256,
			transparent, in.Resize, in.Crop, strconv.Itoa(in.Quality)} {
			binary.BigEndian.PutUint64(n[:], uint64(len(s)))
			h.Write(n[:])
			h.Write([]byte(s))
		}
	}
	if in.Candidates > 1 {
		// Appended only when set, tagged, so that every digest of a
		// single render stays as it was.
		h.Write([]byte("\x00candidates"))
		binary.BigEndian.PutUint64(n[:], uint64(in.Candidates))
		h.Write(n[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// NewLock returns an empty lockfile.
func NewLock() *Lock { return &Lock{Images: map[addrs.Addr]Entry{}} }

// Clone returns a deep copy of l. A nil Lock clones to an empty one.
func (l *Lock) Clone() *Lock {
	if l == nil || l.Images == nil {
		return NewLock()
	}
	c := &Lock{Images: maps.Clone(l.Images)}
	for a, e := range c.Images {
		if e.Takes != nil || e.Approved != nil {
			e.Takes = slices.Clone(e.Takes)
			if e.Approved != nil {
				ap := *e.Approved
				e.Approved = &ap
			}
			c.Images[a] = e
		}
	}
	return c
}

// LockError is a lockfile that cannot be used. Line and Col are 1-based and
// zero when unknown; Addr is set when the problem is in one entry.
type LockError struct {
	File string
	Line int
	Col  int
	Addr addrs.Addr
	// Key is the entry's key as written when it is not a valid address
	// (Addr is then the zero Addr).
	Key string
	// Msg says what is wrong and what to do about it.
	Msg string
	Err error // underlying decoder error, may be nil
}

// Error renders FILE:LINE:COL: "ADDR": MSG, leaving out what is unknown.
func (e *LockError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
	}
	b.WriteString(": ")
	if k := e.key(); k != "" {
		b.WriteString(strconv.Quote(k))
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// key is the entry's key, if any: its address, or the key as written.
func (e *LockError) key() string {
	if e.Addr != (addrs.Addr{}) {
		return e.Addr.String()
	}
	return e.Key
}

// Unwrap returns the decoder error, if any.
func (e *LockError) Unwrap() error { return e.Err }

// fixHint ends every schema error: what the user can do.
const fixHint = "restore the lockfile from version control, or fix or delete that entry by hand"

// ParseLock parses and validates a lockfile. filename is used only in error
// messages. It rejects anything that is not exactly a version-1 lockfile
// whose every entry is well-formed (see validateEntry); the returned error is
// a *LockError naming the file and, where known, the line, column and
// address. The returned Lock's Images is never nil.
func ParseLock(data []byte, filename string) (*Lock, error) {
	return parseLock(data, filename, parseCopy)
}

// ParseLockShared is ParseLock for data that nobody changes afterwards:
// the entries' strings may point into data rather than copy it, so that
// data stays in memory as long as any of them does. It suits a lockfile
// read for a plan, whose entries live as long as the process. beside
// says that the caller reads it beside other work that keeps the other
// cores busy: it is then read on the calling goroutine alone, each entry
// straight into the lock, none held apart for a second goroutine.
func ParseLockShared(data []byte, filename string, beside bool) (*Lock, error) {
	mode := parseShared
	if beside {
		mode = parseSharedBeside
	}
	return parseLock(data, filename, mode)
}

// parseMode is how parseCanonical reads: whether strings point into its
// data, and whether it may scan on two goroutines.
type parseMode int

const (
	parseCopy parseMode = iota
	parseShared
	parseSharedBeside
)

func parseLock(data []byte, filename string, mode parseMode) (*Lock, error) {
	if line := conflictMarkerLine(data); line > 0 {
		return nil, &LockError{File: filename, Line: line, Col: 1, Msg: conflictMessage(data, filename, line)}
	}
	if lock, ok := parseCanonical(data, mode); ok {
		return lock, nil
	}
	return parseStrict(data, filename)
}

// parseStrict is ParseLock after the conflict markers: the first pass
// (when data does not start as Marshal starts) and the strict second one.
func parseStrict(data []byte, filename string) (*Lock, error) {
	if !bytes.HasPrefix(data, []byte(canonicalHead)) {
		if err := checkVersion(data, filename); err != nil {
			return nil, err
		}
	}

	// Second pass: strict, token by token at the top, so duplicate keys are
	// caught and every entry error names its address and position. An
	// entry's keys are checked apart (checkEntryKeys), each at its own
	// position: none the decoder does not know gets through.
	lock := NewLock()
	dec := json.NewDecoder(bytes.NewReader(data))
	fail := func(addr string, err error) error { return decodeError(data, filename, addr, err) }
	if _, err := dec.Token(); err != nil { // '{', checked by the first pass
		return nil, fail("", err)
	}
	seen := map[string]bool{}
	for dec.More() {
		off := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return nil, fail("", err)
		}
		key, _ := tok.(string)
		if seen[key] {
			return nil, atOffset(data, filename, "", off, fmt.Sprintf("field %q appears twice; %s", key, fixHint))
		}
		seen[key] = true
		switch key {
		case "version":
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				return nil, fail("", err)
			}
		case "images":
			if err := parseImages(dec, data, filename, lock); err != nil {
				return nil, err
			}
		default:
			return nil, atOffset(data, filename, "", off, fmt.Sprintf("unknown field %q at the top level; %s", key, fixHint))
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return nil, fail("", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, atOffset(data, filename, "", dec.InputOffset(), "unexpected data after the lockfile's closing brace; "+fixHint)
	}
	return lock, nil
}

// canonicalHead is how Marshal starts every lockfile: a file that starts so
// is of this version, and its first pass can be skipped (a large lockfile
// is then scanned once, not twice).
const canonicalHead = "{\n  \"version\": 1,"

// checkVersion is the first pass over a lockfile not in canonical form: the
// syntax of the whole document and its version, before strictness, so that
// a newer lockfile gets the upgrade message rather than "unknown field".
func checkVersion(data []byte, filename string) error {
	var head struct {
		Version json.RawMessage `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return decodeError(data, filename, "", err)
	}
	if len(head.Version) == 0 || string(head.Version) == "null" {
		return &LockError{File: filename, Msg: "not a pixform lockfile: no \"version\" field; " + fixHint}
	}
	version, err := strconv.ParseInt(string(head.Version), 10, 64)
	switch {
	case err != nil:
		return &LockError{File: filename, Msg: fmt.Sprintf("lockfile version %s is not a whole number; %s", head.Version, fixHint)}
	case version > LockVersion:
		return &LockError{File: filename, Msg: fmt.Sprintf("lockfile version %d is newer than this pixform understands (%d): upgrade pixform", version, LockVersion)}
	case version < LockVersion:
		return &LockError{File: filename, Msg: fmt.Sprintf("lockfile version %d is not one this pixform understands (%d); %s", version, LockVersion, fixHint)}
	}
	return nil
}

// parseImages reads the value of "images" into lock, validating each entry.
func parseImages(dec *json.Decoder, data []byte, filename string, lock *Lock) error {
	start := dec.InputOffset()
	tok, err := dec.Token()
	if err != nil {
		return decodeError(data, filename, "", err)
	}
	if tok == nil { // "images": null
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return atOffset(data, filename, "", start, "\"images\" must be an object of address: entry; "+fixHint)
	}
	byPath := map[string]addrs.Addr{}
	for dec.More() {
		off := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return decodeError(data, filename, "", err)
		}
		addr, _ := tok.(string)
		at := func(msg string) error { return atOffset(data, filename, addr, off, msg) }
		a, err := parseAddrKey(addr)
		if err != nil {
			return at(err.Error() + "; " + fixHint)
		}
		if _, dup := lock.Images[a]; dup {
			return at("address appears twice; " + fixHint)
		}
		// The entry is decoded, and then its keys are checked in its
		// bytes: encoding/json matches a field name in any letter case
		// (and ignores one it does not know), and keeps the last of
		// repeated ones, so that a lockfile from a pull request could
		// hold an "Approved" that a review of its diff for "approved"
		// misses, and a conflict resolved by keeping both sides' lines
		// would silently keep the last.
		valueAt := valueOffset(data, dec.InputOffset())
		var e Entry
		if err := dec.Decode(&e); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				// The decoder counts a type error's offset from a point
				// of its own near the entry: the entry decoded alone
				// counts it from the entry's first byte.
				if again := json.Unmarshal(data[valueAt:dec.InputOffset()], new(Entry)); errors.As(again, &te) {
					te.Offset += valueAt
					err = again
				}
			}
			return decodeError(data, filename, addr, err)
		}
		if koff, msg := checkEntryKeys(data[valueAt:dec.InputOffset()]); msg != "" {
			return atOffset(data, filename, addr, valueAt+koff, msg+"; "+fixHint)
		}
		atPath := func(msg string) error {
			return atOffset(data, filename, addr, off+pathOffset(data[off:]), msg)
		}
		if err := validateEntry(e); err != nil {
			if isPathErr(err) {
				return atPath(pathMsg(err))
			}
			return at(err.Error() + "; " + fixHint)
		}
		key := safepath.Key(e.Path)
		if other, ok := byPath[key]; ok {
			if o := lock.Images[other].Path; o != e.Path {
				return atPath(fmt.Sprintf("path %q is the same file as %q, recorded for %s, on a case-insensitive file system (macOS, Windows); two images cannot share a file; %s", e.Path, o, other, fixHint))
			}
			return atPath(fmt.Sprintf("path %q is also recorded for %s; two images cannot share a file; %s", e.Path, other, fixHint))
		}
		byPath[key] = a
		lock.Images[a] = e
	}
	if _, err := dec.Token(); err != nil { // '}'
		return decodeError(data, filename, "", err)
	}
	return nil
}

// parseAddrKey parses a lockfile key, accepting only addresses in the
// canonical form String renders.
func parseAddrKey(key string) (addrs.Addr, error) {
	a, err := addrs.Parse(key)
	if err != nil {
		return addrs.Addr{}, err
	}
	if canon := a.String(); canon != key {
		return addrs.Addr{}, fmt.Errorf("address is not in canonical form (want %s)", canon)
	}
	return a, nil
}

// checkAddr accepts only addresses that a lockfile key can hold: those
// that parse back from their String.
func checkAddr(a addrs.Addr) error {
	b, err := parseAddrKey(a.String())
	if err != nil {
		return err
	}
	if b != a {
		return fmt.Errorf("address is not in canonical form (want %s)", b)
	}
	return nil
}

// lockError is a LockError at an entry whose key, as written, is key.
func lockError(filename string, line, col int, key, msg string) *LockError {
	le := &LockError{File: filename, Line: line, Col: col, Msg: msg}
	if a, err := parseAddrKey(key); err == nil {
		le.Addr = a
	} else {
		le.Key = key
	}
	return le
}

// ValidateEntry reports the first way e breaks the lockfile's schema, or nil.
func ValidateEntry(e Entry) error { return validateEntry(e) }

func validateEntry(e Entry) error {
	in := e.Inputs
	if in.Derived() || in.Transparent {
		if err := validateDerived(in); err != nil {
			return err
		}
		return validateRecord(e)
	}
	switch {
	case in.Operation != "" || in.Mask != "" || in.MaskSHA256 != "" || in.SourceSHA256 != "" ||
		in.Resize != "" || in.Crop != "" || in.Quality != 0:
		return errors.New("inputs name an operation, mask, resize, crop or quality but no source")
	case in.Prompt == "":
		return errors.New("inputs.prompt is empty")
	case in.Style == "":
		return errors.New("inputs.style is empty")
	case in.AspectRatio == "":
		return errors.New("inputs.aspect_ratio is empty")
	case in.Seed < 1 || in.Seed > providers.MaxSeed:
		return fmt.Errorf("inputs.seed %d is outside 1..%d", in.Seed, int64(providers.MaxSeed))
	}
	return validateRecord(e)
}

// validateRecord checks what an entry records of its file.
func validateRecord(e Entry) error {
	switch {
	case !providers.Known(e.Provider):
		return fmt.Errorf("provider %q is neither %q nor %q", e.Provider, providers.Imagine, providers.Draft)
	case !validSHA256(e.SHA256):
		return fmt.Errorf("sha256 %q is not 64 lower-case hex digits", e.SHA256)
	case e.Bytes <= 0:
		return fmt.Errorf("bytes %d is not positive", e.Bytes)
	case !media.Known(e.MediaType):
		return fmt.Errorf("media_type %q is neither %s nor %s", e.MediaType, media.PNG, media.JPEG)
	case e.Width <= 0 || e.Height <= 0:
		return fmt.Errorf("width %d and height %d must both be positive", e.Width, e.Height)
	}
	if err := validateReview(e); err != nil {
		return err
	}
	return checkPath(e.Path)
}

// checkPath accepts what safepath.Check accepts (a clean, relative,
// slash-separated path that stays inside the working directory and is
// neither pixform's own nor version control's) that names an image by its
// extension, as a declared path must: a lockfile then cannot have apply
// delete or overwrite a file that is not an image, such as the
// configuration. The error is a *safepath.Error or an *extError.
func checkPath(p string) error {
	if err := safepath.Check(p); err != nil {
		return err
	}
	if _, ok := media.OfPath(p); !ok {
		return &extError{Path: p}
	}
	return nil
}

// extError is a lockfile path whose extension names no image format.
type extError struct{ Path string }

func (e *extError) Error() string {
	return fmt.Sprintf("path %q does not end in %s", e.Path, media.Extensions)
}

// isPathErr reports whether err, from validateEntry, is about the path.
func isPathErr(err error) bool {
	return errors.As(err, new(*safepath.Error)) || errors.As(err, new(*extError))
}

// pathMsg words an error about a lockfile entry's path (isPathErr): what
// is wrong and what to do.
func pathMsg(err error) string {
	var pe *safepath.Error
	if errors.As(err, &pe) && pe.Reason == safepath.Symlink {
		return err.Error() + "; pixform never reads, writes or deletes through a symbolic link, so that no lockfile can lead it outside the directory or make two paths one file: " +
			"if the link is yours, replace it with the real directory or file; otherwise " + fixHint
	}
	return err.Error() + "; a lockfile path must be relative, clean, inside the working directory, not under " + WorkDirName + "/, not inside .git (or .hg, .svn), and end in " + media.Extensions + ": " + fixHint
}

// pathOffset returns the offset, in entry (which starts with an entry's
// "address": {...} member), of the value of its path field, or 0 when it
// cannot be found. The entry's keys were checked (checkEntryKeys): each
// is spelt exactly and appears once.
func pathOffset(entry []byte) int64 {
	// A decoder of its own sees a fresh document: step over the comma
	// before the member, its key and the colon by hand.
	start := int64(len(entry) - len(bytes.TrimLeft(entry, " \t\r\n,")))
	dec := json.NewDecoder(bytes.NewReader(entry[start:]))
	if _, err := dec.Token(); err != nil { // the address
		return 0
	}
	start += dec.InputOffset()
	rest := entry[start:]
	start += int64(len(rest) - len(bytes.TrimLeft(rest, " \t\r\n:")))
	dec = json.NewDecoder(bytes.NewReader(entry[start:]))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return 0
	}
	var found int64
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return found
		}
		at := dec.InputOffset()
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return found
		}
		if k, _ := t.(string); k == "path" {
			found = start + at
		}
	}
	return found
}

func validSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// conflictMarkerLine returns the 1-based line of the first git conflict
// marker in data, or 0. A marker line starts with <, >, | or =, bytes a
// lockfile seldom holds: only the lines that start with one are looked
// at, found by a search for each byte (each found where a line starts),
// not line by line.
func conflictMarkerLine(data []byte) int {
	const starts = "<>|="
	var next [len(starts)]int // offset of the next starts[k] at or after from, or len(data)
	for k := range next {
		next[k] = -1
	}
	for from := 0; ; {
		at := len(data)
		for k := range next {
			if next[k] < from {
				next[k] = len(data)
				if i := bytes.IndexByte(data[from:], starts[k]); i >= 0 {
					next[k] = from + i
				}
			}
			at = min(at, next[k])
		}
		if at == len(data) {
			return 0
		}
		from = at + 1
		if at > 0 && data[at-1] != '\n' {
			continue // not where a line starts
		}
		line := data[at:]
		if end := bytes.IndexByte(line, '\n'); end >= 0 {
			line = line[:end]
		}
		if isConflictMarker(line) {
			return 1 + bytes.Count(data[:at], []byte("\n"))
		}
	}
}

// isConflictMarker reports whether the line l (without its newline) is a
// git conflict marker.
func isConflictMarker(l []byte) bool {
	return bytes.HasPrefix(l, []byte("<<<<<<<")) || bytes.HasPrefix(l, []byte(">>>>>>>")) ||
		bytes.HasPrefix(l, []byte("|||||||")) || bytes.Equal(bytes.TrimRight(l, "\r"), []byte("=======")) ||
		bytes.HasPrefix(l, []byte("======= "))
}

// decodeError turns an encoding/json error into a *LockError with a
// position where the error carries an offset.
func decodeError(data []byte, filename, addr string, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		le := lockError(filename, 1, 1, "", "the lockfile is empty; restore it from version control, or delete it to start with no image recorded (the next plan takes every declared image as new)")
		le.Err = err
		return le
	case bytes.HasPrefix(data, []byte("\xef\xbb\xbf")):
		le := lockError(filename, 1, 1, "", "the lockfile starts with a UTF-8 byte-order mark, which JSON does not allow (an editor added it?); save it without one, or restore it from version control")
		le.Err = err
		return le
	case errors.As(err, &se) && se.Offset >= int64(len(data)):
		le := atOffset(data, filename, addr, se.Offset, "the lockfile ends too early (truncated?); "+fixHint)
		le.Err = err
		return le
	case errors.As(err, &se):
		// Offset is just past the offending byte: point at that byte.
		line, col := lineCol(data, se.Offset-1, false)
		le := lockError(filename, line, col, addr, "not valid JSON: "+se.Error()+"; "+fixHint)
		le.Err = err
		return le
	case errors.As(err, &te):
		what := "a value"
		if te.Field != "" {
			what = strconv.Quote(te.Field)
		}
		le := atOffset(data, filename, addr, te.Offset-1, fmt.Sprintf("%s must be %s, not %s; %s", what, jsonKind(te.Type.Kind().String()), te.Value, fixHint))
		le.Err = err
		return le
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		le := atOffset(data, filename, addr, int64(len(data)), "the lockfile ends too early (truncated?); "+fixHint)
		le.Err = err
		return le
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	le := lockError(filename, 0, 0, addr, msg+"; "+fixHint)
	le.Err = err
	return le
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "int", "int64", "int32", "uint", "uint64":
		return "a whole number"
	case "struct", "map":
		return "an object"
	}
	return goKind
}

func atOffset(data []byte, filename, addr string, off int64, msg string) *LockError {
	line, col := lineCol(data, off, true)
	return lockError(filename, line, col, addr, msg)
}

// lineCol converts a byte offset into a 1-based line and column (in
// characters), skipping the whitespace a decoder offset may point before.
func lineCol(data []byte, off int64, skip bool) (int, int) {
	if off < 0 {
		off = 0
	}
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	for skip && off < int64(len(data)) && strings.IndexByte(" \t\r\n,:", data[off]) >= 0 {
		off++
	}
	if off == int64(len(data)) && off > 0 {
		off-- // report the last character rather than past the end
	}
	before := data[:off]
	line := 1 + bytes.Count(before, []byte("\n"))
	start := bytes.LastIndexByte(before, '\n') + 1
	return line, 1 + utf8.RuneCount(before[start:])
}

// ReadLock reads and parses the lockfile at path. A missing file is an
// empty lockfile, not an error.
func ReadLock(path string) (*Lock, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return NewLock(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read lockfile %s: %w", path, err)
	}
	return ParseLock(data, path)
}

// Marshal encodes the lockfile canonically: keys in address order
// (addrs.Addr.Compare: image.a[9] before image.a[10]), two-space indent,
// one field a line, fields in Entry's order, trailing newline. The bytes are
// what encoding/json.MarshalIndent(v, "", "  ") produces for
// {"version": 1, "images": l.Images} plus a newline, but for the key order,
// so that a change to one image changes only that image's lines.
func (l *Lock) Marshal() []byte {
	var keys []addrs.Addr
	if l != nil {
		keys = slices.SortedFunc(maps.Keys(l.Images), addrs.Addr.Compare)
	}
	buf := make([]byte, 0, 64+len(keys)*512)
	buf = append(buf, lockHead...)
	if len(keys) == 0 {
		return append(buf, lockEmptyTail...)
	}
	buf = append(buf, lockOpen...)
	for i, k := range keys {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendEntry(buf, k, l.Images[k])
	}
	return append(buf, lockTail...)
}

// Fixed parts of a marshaled lockfile around its entries.
const (
	lockHead      = "{\n  \"version\": 1"
	lockEmptyTail = ",\n  \"images\": {}\n}\n"
	lockOpen      = ",\n  \"images\": {"
	lockTail      = "\n  }\n}\n"
)

// appendEntry appends one "key": {...} member of "images", starting with
// its newline and indent, without a separating comma.
func appendEntry(buf []byte, k addrs.Addr, e Entry) []byte {
	buf = append(buf, "\n    "...)
	buf = appendJSONString(buf, k.String())
	buf = append(buf, ": {\n      \"inputs\": {\n        \"prompt\": "...)
	buf = appendJSONString(buf, e.Inputs.Prompt)
	buf = append(buf, ",\n        \"style\": "...)
	buf = appendJSONString(buf, e.Inputs.Style)
	buf = append(buf, ",\n        \"aspect_ratio\": "...)
	buf = appendJSONString(buf, e.Inputs.AspectRatio)
	buf = append(buf, ",\n        \"seed\": "...)
	buf = strconv.AppendInt(buf, e.Inputs.Seed, 10)
	buf = appendDerived(buf, &e.Inputs)
	if e.Inputs.Candidates != 0 {
		buf = append(buf, ",\n        \"candidates\": "...)
		buf = strconv.AppendInt(buf, int64(e.Inputs.Candidates), 10)
	}
	buf = append(buf, "\n      },\n      \"provider\": "...)
	buf = appendJSONString(buf, e.Provider)
	buf = append(buf, ",\n      \"path\": "...)
	buf = appendJSONString(buf, e.Path)
	buf = append(buf, ",\n      \"sha256\": "...)
	buf = appendJSONString(buf, e.SHA256)
	buf = append(buf, ",\n      \"bytes\": "...)
	buf = strconv.AppendInt(buf, e.Bytes, 10)
	buf = append(buf, ",\n      \"media_type\": "...)
	buf = appendJSONString(buf, e.MediaType)
	buf = append(buf, ",\n      \"width\": "...)
	buf = strconv.AppendInt(buf, int64(e.Width), 10)
	buf = append(buf, ",\n      \"height\": "...)
	buf = strconv.AppendInt(buf, int64(e.Height), 10)
	buf = appendReview(buf, e)
	return append(buf, "\n    }"...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as encoding/json encodes a string with its
// default HTML escaping: <, > and & as \u00XX, U+2028 and U+2029 escaped,
// invalid UTF-8 replaced by \ufffd.
func appendJSONString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\b':
				buf = append(buf, '\\', 'b')
			case '\f':
				buf = append(buf, '\\', 'f')
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			buf = append(buf, s[start:i]...)
			buf = append(buf, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}
