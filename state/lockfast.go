package state

import (
	"bytes"
	"encoding/json"
	"runtime"
	"strconv"
	"sync"
	"unicode/utf8"
	"unsafe"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/internal/safepath"
)

// parseCanonical reads a lockfile in exactly the form Marshal writes, and
// reports false for anything else, or for anything ParseLock would refuse:
// ParseLock then reads data the strict way, which says what is wrong and
// where. Each entry is read by a scanner that expects Marshal's layout
// (an entry it does not follow goes through encoding/json alone), then
// encoded again: only bytes equal to that encoding are accepted, so what
// the scanner accepts is what encoding/json would decode, at a fraction of
// its cost. Every entry is validated as ParseLock validates it.
func parseCanonical(data []byte, mode parseMode) (*Lock, bool) {
	splitFrom := parallelScanFrom
	if runtime.GOMAXPROCS(0) < 2 || mode == parseSharedBeside {
		splitFrom = -1
	}
	return parseCanonicalShare(data, splitFrom, mode != parseCopy)
}

// parseCanonicalSplit is parseCanonical, scanning "images" in two halves
// at once when it holds splitFrom bytes or more (never when splitFrom is
// negative).
func parseCanonicalSplit(data []byte, splitFrom int) (*Lock, bool) {
	return parseCanonicalShare(data, splitFrom, false)
}

// parseCanonicalShare is parseCanonicalSplit; with share set, the
// entries' strings that data holds as they are (no escape) are not
// copied but point into data, which the caller then never changes.
// The first half of "images" is read into the lock as it is scanned;
// only the second, scanned at once beside it, is held apart until then.
func parseCanonicalShare(data []byte, splitFrom int, share bool) (*Lock, bool) {
	if string(data) == lockHead+lockEmptyTail {
		return NewLock(), true
	}
	if !bytes.HasPrefix(data, []byte(lockHead+lockOpen)) || !bytes.HasSuffix(data, []byte(lockTail)) {
		return nil, false
	}
	body := data[len(lockHead+lockOpen) : len(data)-len(lockTail)]
	n := bytes.Count(body, []byte(entryEnd))
	// A large lockfile is scanned in two halves at once, split where an
	// entry ends; the entries are then taken in order, as one scan would.
	chunks := [][]byte{body}
	if splitFrom >= 0 && len(body) >= splitFrom {
		if i := bytes.Index(body[len(body)/2:], []byte(entryEnd+",")); i >= 0 {
			p := len(body)/2 + i + len(entryEnd)
			chunks = [][]byte{body[:p], body[p+1:]}
		}
	}
	// No address twice, and no path twice once folded. The first half
	// goes into the lock as it is read; its paths' keys are kept for the
	// check of paths, made beside the lock's filling of the second half.
	lock := &Lock{Images: make(map[addrs.Addr]Entry, n)}
	var rest scannedEntries
	var wg sync.WaitGroup
	if len(chunks) > 1 {
		wg.Go(func() { rest = scanEntries(chunks[1], n/2+1, share, nil) })
	}
	addrsOK := true
	firstKeys := make([]string, 0, n/len(chunks)+1)
	first := scanEntries(chunks[0], n/len(chunks)+1, share, func(a addrs.Addr, e Entry, key string) {
		if _, dup := lock.Images[a]; dup {
			addrsOK = false
		}
		lock.Images[a] = e
		firstKeys = append(firstKeys, key)
	})
	wg.Wait()
	if !first.ok || !addrsOK || len(chunks) > 1 && !rest.ok {
		return nil, false
	}
	pathsOK := true
	byPath := func() {
		seen := make(map[string]struct{}, n)
		for _, k := range firstKeys {
			if _, dup := seen[k]; dup {
				pathsOK = false
				return
			}
			seen[k] = struct{}{}
		}
		for i := range rest.entries {
			k := rest.entries[i].key
			if _, dup := seen[k]; dup {
				pathsOK = false
				return
			}
			seen[k] = struct{}{}
		}
	}
	if len(chunks) > 1 {
		wg.Go(byPath)
	} else {
		byPath()
	}
	for i := range rest.entries {
		se := &rest.entries[i]
		if _, dup := lock.Images[se.addr]; dup {
			addrsOK = false
			break
		}
		lock.Images[se.addr] = se.entry
	}
	wg.Wait()
	if !addrsOK || !pathsOK {
		return nil, false
	}
	return lock, true
}

// entryEnd ends every entry of "images" in Marshal's layout: strings hold
// no raw newline, and nested objects close further in.
const entryEnd = "\n    }"

// parallelScanFrom is the size of "images" from which parseCanonical
// scans it in two halves at once.
const parallelScanFrom = 256 << 10

// scannedEntries is what scanEntries read of a run of entries: each
// valid, in order; ok is false when one is not in Marshal's layout or
// not valid.
type scannedEntries struct {
	entries []scannedEntry
	ok      bool
}

type scannedEntry struct {
	addr  addrs.Addr
	entry Entry
	key   string // safepath.Key of the entry's path
}

// scanEntries reads body, a run of `\n    "address": {...}` members of
// "images" separated by commas, each in Marshal's layout and valid as
// ParseLock validates it; n is about how many there are. With share,
// the entries' strings point into body where they can (see
// parseCanonicalShare). With take, each entry is handed to take as it is
// read, in order, and none is kept.
func scanEntries(body []byte, n int, share bool, take func(addrs.Addr, Entry, string)) scannedEntries {
	var out []scannedEntry
	if take == nil {
		out = make([]scannedEntry, 0, n)
	}
	var enc []byte
	sc := &entryScanner{intern: map[string]string{}, share: share}
	for off := 0; off < len(body); {
		if off > 0 {
			if body[off] != ',' {
				return scannedEntries{}
			}
			off++
		}
		end := bytes.Index(body[off:], []byte(entryEnd))
		if end < 0 {
			return scannedEntries{}
		}
		end += off + len(entryEnd)
		raw := body[off:end]
		a, e, plain, ok := sc.entry(raw)
		if !ok {
			return scannedEntries{}
		}
		// An entry read in Marshal's layout with nothing but bytes that
		// Marshal writes as they are (see plain) is its encoding: only
		// the others are encoded again to be compared.
		if !plain {
			if enc = appendEntry(enc[:0], a, e); !bytes.Equal(enc, raw) {
				return scannedEntries{}
			}
		}
		if validateEntry(e) != nil {
			return scannedEntries{}
		}
		if take != nil {
			take(a, e, safepath.Key(e.Path))
		} else {
			out = append(out, scannedEntry{addr: a, entry: e, key: safepath.Key(e.Path)})
		}
		off = end
	}
	return scannedEntries{entries: out, ok: true}
}

// entry reads one `\n    "address": {...}` member of "images" as Marshal
// lays it out, with s (whose intern table it shares with the other
// entries). An entry with fields beyond the common ones (derived inputs,
// candidates, takes, a review) is decoded by encoding/json, as ParseLock
// decodes it. plain reports whether raw is the entry as Marshal writes
// it: read in Marshal's layout, every string with only bytes that
// appendJSONString writes as they are (printable ASCII but for <, > and
// &; of escapes only \" and \\), every number as strconv writes it. The
// address is in canonical form already (parseAddrKey). When plain is
// false, only encoding the entry again tells.
func (s *entryScanner) entry(raw []byte) (a addrs.Addr, e Entry, plain, ok bool) {
	s.b, s.off, s.plain = raw, 0, true
	if !s.lit("\n    ") {
		return addrs.Addr{}, e, false, false
	}
	key, ok := s.str()
	if !ok {
		return addrs.Addr{}, e, false, false
	}
	a, err := addrs.Parse(key)
	if err != nil || !isAddrKey(a, key) || !s.lit(": ") {
		return addrs.Addr{}, e, false, false
	}
	obj := s.b[s.off:]
	if s.lit("{\n      \"inputs\": {\n        \"prompt\": ") && s.strTo(&e.Inputs.Prompt) &&
		s.lit(",\n        \"style\": ") && s.internTo(&e.Inputs.Style) &&
		s.lit(",\n        \"aspect_ratio\": ") && s.internTo(&e.Inputs.AspectRatio) &&
		s.lit(",\n        \"seed\": ") && s.int64To(&e.Inputs.Seed) &&
		s.lit("\n      },\n      \"provider\": ") && s.internTo(&e.Provider) &&
		s.lit(",\n      \"path\": ") && s.strTo(&e.Path) &&
		s.lit(",\n      \"sha256\": ") && s.strTo(&e.SHA256) &&
		s.lit(",\n      \"bytes\": ") && s.int64To(&e.Bytes) &&
		s.lit(",\n      \"media_type\": ") && s.internTo(&e.MediaType) &&
		s.lit(",\n      \"width\": ") && s.intTo(&e.Width) &&
		s.lit(",\n      \"height\": ") && s.intTo(&e.Height) &&
		s.lit("\n    }") && s.off == len(s.b) {
		return a, e, s.plain, true
	}
	// Decoded into a variable of its own, so that only an entry that
	// gets here is allocated for the decoder, not every e.
	var d Entry
	dec := json.NewDecoder(bytes.NewReader(obj))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return addrs.Addr{}, d, false, false
	}
	return a, d, false, true
}

// isAddrKey reports whether key is a.String(), as parseAddrKey requires,
// without making that string.
func isAddrKey(a addrs.Addr, key string) bool {
	var buf [64]byte
	b := append(buf[:0], "image."...)
	b = append(b, a.Name...)
	switch a.Kind {
	case addrs.StringKey:
		// String quotes a key as strconv.Quote does (it only adds the
		// quotes around a plain one).
		b = strconv.AppendQuote(append(b, '['), a.Key)
		b = append(b, ']')
	case addrs.IntKey:
		b = strconv.AppendInt(append(b, '['), int64(a.Index), 10)
		b = append(b, ']')
	}
	return string(b) == key
}

// entryScanner reads the fields of one entry in Marshal's layout.
type entryScanner struct {
	b   []byte
	off int
	// plain is false once something was read that Marshal might write
	// otherwise (see entry).
	plain bool
	// intern holds the values of the fields that repeat across entries
	// (style, aspect ratio, provider, media type): one string each.
	intern map[string]string
	// share makes a string without escapes point into b (see
	// parseCanonicalShare) rather than copy it.
	share bool
}

// cut returns b[from:to] as a string: b's own bytes when s shares them.
func (s *entryScanner) cut(from, to int) string {
	if s.share && to > from {
		return unsafe.String(&s.b[from], to-from)
	}
	return string(s.b[from:to])
}

// verbatim holds the bytes that appendJSONString writes as they are and
// that a string's fast path reads as they are.
var verbatim = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// lit consumes s if the bytes at the offset are s.
func (s *entryScanner) lit(lit string) bool {
	if !bytes.HasPrefix(s.b[s.off:], []byte(lit)) {
		return false
	}
	s.off += len(lit)
	return true
}

func (s *entryScanner) strTo(p *string) bool {
	v, ok := s.str()
	*p = v
	return ok
}

// str reads a JSON string. Escapes are decoded as encoding/json decodes
// them; what they cannot mean in Marshal's output (a lone surrogate, bytes
// that are not UTF-8) is caught when the entry is encoded again.
func (s *entryScanner) str() (string, bool) {
	if s.off >= len(s.b) || s.b[s.off] != '"' {
		return "", false
	}
	start := s.off + 1
	i := start
	for i < len(s.b) && verbatim[s.b[i]] {
		i++
	}
	if i < len(s.b) && s.b[i] == '"' {
		s.off = i + 1
		return s.cut(start, i), true
	}
	for i < len(s.b) && s.b[i] != '"' && s.b[i] != '\\' {
		i++
		s.plain = false // a byte not verbatim
	}
	if i < len(s.b) && s.b[i] == '"' {
		s.off = i + 1
		return s.cut(start, i), true
	}
	buf := append([]byte(nil), s.b[start:i]...)
	for i < len(s.b) {
		c := s.b[i]
		switch {
		case c == '"':
			s.off = i + 1
			return string(buf), true
		case c != '\\':
			if !verbatim[c] {
				s.plain = false
			}
			buf = append(buf, c)
			i++
			continue
		}
		if i+1 >= len(s.b) {
			return "", false
		}
		if e := s.b[i+1]; e != '"' && e != '\\' {
			// appendJSONString writes \" and \\ as such; any other
			// escape may stand for what it writes otherwise.
			s.plain = false
		}
		switch s.b[i+1] {
		case '"', '\\', '/':
			buf = append(buf, s.b[i+1])
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			if i+6 > len(s.b) {
				return "", false
			}
			r, err := strconv.ParseUint(string(s.b[i+2:i+6]), 16, 16)
			if err != nil {
				return "", false
			}
			buf = utf8.AppendRune(buf, rune(r))
			i += 6
			continue
		default:
			return "", false
		}
		i += 2
	}
	return "", false
}

// internTo reads a JSON string into *p, sharing the string with the
// entries read before that hold the same value.
func (s *entryScanner) internTo(p *string) bool {
	if s.intern != nil && s.off < len(s.b) && s.b[s.off] == '"' {
		// A value of verbatim bytes is the bytes read: look it up by
		// them, before making a string of them.
		i := s.off + 1
		for i < len(s.b) && verbatim[s.b[i]] {
			i++
		}
		if i < len(s.b) && s.b[i] == '"' {
			if v, seen := s.intern[string(s.b[s.off+1:i])]; seen {
				*p = v
				s.off = i + 1
				return true
			}
		}
	}
	v, ok := s.str()
	if ok && s.intern != nil && len(s.intern) < 64 { // a few values repeat
		s.intern[v] = v
	}
	*p = v
	return ok
}

// number returns the digits (with a leading minus) at the offset.
func (s *entryScanner) number() []byte {
	start := s.off
	if s.off < len(s.b) && s.b[s.off] == '-' {
		s.off++
	}
	for s.off < len(s.b) && s.b[s.off] >= '0' && s.b[s.off] <= '9' {
		s.off++
	}
	return s.b[start:s.off]
}

// parseNumber reads the number at the offset as strconv.ParseInt reads
// it with bitSize bits, without a string for the common case: at most 18
// digits as strconv.AppendInt writes them (no leading zero, no -0). Any
// other form is read by strconv and leaves s not plain.
func (s *entryScanner) parseNumber(bitSize int) (int64, bool) {
	b := s.number()
	digits, neg := b, false
	if len(digits) > 0 && digits[0] == '-' {
		digits, neg = digits[1:], true
	}
	if len(digits) == 0 || len(digits) > 18 || digits[0] == '0' && (len(digits) > 1 || neg) {
		s.plain = false
		v, err := strconv.ParseInt(string(b), 10, bitSize)
		return v, err == nil
	}
	var v int64
	for _, c := range digits {
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	if bitSize < 64 && (v < -1<<(bitSize-1) || v > 1<<(bitSize-1)-1) {
		return 0, false
	}
	return v, true
}

func (s *entryScanner) int64To(p *int64) bool {
	v, ok := s.parseNumber(64)
	*p = v
	return ok
}

func (s *entryScanner) intTo(p *int) bool {
	v, ok := s.parseNumber(strconv.IntSize)
	*p = int(v)
	return ok
}
