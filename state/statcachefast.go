package state

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/pixform/pixform/media"
)

// statCacheMaxLine is the longest line parseStatCache's scanner reads
// (its buffer's size, newline included); parseStatCacheFast reads no
// longer line either.
const statCacheMaxLine = 1 << 20

// parseStatCacheFast is parseStatCache without a string per line: the
// records' strings are cut from one copy of data. It also reports whether
// data is exactly what encodeStatCache writes for the records it returns
// (sorted paths, each once, numbers and quotes as Go writes them), so that
// a caller that would write back the same records can tell that the file
// holds them already without encoding them. Any line parseStatCache would
// refuse yields an empty cache, as there; a line too long for its scanner
// too (the cache is then rebuilt, where the scanner stopped reading).
func parseStatCacheFast(data []byte) (map[string]statRecord, bool) {
	out, canonical, _ := parseStatCacheOrder(data, false)
	return out, canonical
}

// statRecords are the records of a stat cache: in a map, or, for a file
// in encodeStatCache's form, as its sorted paths and their records (half
// the memory of the map).
type statRecords struct {
	m     map[string]statRecord
	paths []string // sorted, each once, when m is nil
	recs  []statRecord
}

// get returns the record of p.
func (r *statRecords) get(p string) (statRecord, bool) {
	if r.m != nil {
		rec, ok := r.m[p]
		return rec, ok
	}
	if i, ok := slices.BinarySearch(r.paths, p); ok {
		return r.recs[i], true
	}
	return statRecord{}, false
}

// count returns how many records there are.
func (r *statRecords) count() int {
	if r.m != nil {
		return len(r.m)
	}
	return len(r.paths)
}

// parseStatCacheShared is parseStatCacheOrder with the records' strings
// pointing into data itself rather than into a copy of it (data is then
// never changed), and the records of a file in encodeStatCache's form
// kept in order rather than in a map.
func parseStatCacheShared(data []byte) (recs statRecords, canonical bool, paths []string) {
	rest, ok := bytes.CutPrefix(data, []byte(statCacheHeader))
	if !ok {
		return statRecords{m: map[string]statRecord{}}, false, nil
	}
	lines := bytes.Count(rest, []byte("\n"))
	recs.recs = make([]statRecord, 0, lines+1)
	m, canonical, paths := parseStatCacheInto(data, true, true, func(rec statRecord) { recs.recs = append(recs.recs, rec) })
	if m != nil || !canonical {
		// Refused (m is empty), or to be looked up by path: later lines
		// stand over earlier ones, as in the map parseStatCacheOrder
		// makes.
		if m == nil {
			m = make(map[string]statRecord, len(paths))
			for i, p := range paths {
				m[p] = recs.recs[i]
			}
		}
		return statRecords{m: m}, canonical, paths
	}
	recs.paths = paths
	return recs, true, paths
}

// parseStatCacheOrder is parseStatCacheFast, also returning, when
// withPaths is set, the paths of the lines read, in their order (those
// of the records returned, once each when canonical; nil when it returns
// no record).
func parseStatCacheOrder(data []byte, withPaths bool) (out map[string]statRecord, canonical bool, paths []string) {
	return parseStatCacheData(data, withPaths, false)
}

func parseStatCacheData(data []byte, withPaths, share bool) (out map[string]statRecord, canonical bool, paths []string) {
	return parseStatCacheInto(data, withPaths, share, nil)
}

// parseStatCacheInto is parseStatCacheData; with add, each record read is
// handed to add in order, and the map returned is nil unless the file is
// refused (then it is empty, as parseStatCacheData's). withPaths must be
// set with add.
func parseStatCacheInto(data []byte, withPaths, share bool, add func(statRecord)) (out map[string]statRecord, canonical bool, paths []string) {
	rest, ok := bytes.CutPrefix(data, []byte(statCacheHeader))
	if !ok {
		return map[string]statRecord{}, false, nil
	}
	lines := bytes.Count(rest, []byte("\n"))
	if add == nil {
		out = make(map[string]statRecord, lines)
	}
	if withPaths {
		paths = make([]string, 0, lines+1)
	}
	var s string
	if share && len(rest) > 0 {
		s = unsafe.String(&rest[0], len(rest))
	} else {
		s = string(rest)
	}
	canonical = true
	var prev string
	var quoted []byte
	for first := true; len(s) > 0; first = false {
		line := s
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			line, s = s[:i], s[i+1:]
		} else {
			s = ""
			canonical = false // encodeStatCache ends every line
		}
		if len(line) >= statCacheMaxLine-1 {
			return map[string]statRecord{}, false, nil
		}
		if l, cr := strings.CutSuffix(line, "\r"); cr { // as bufio.ScanLines
			line = l
			canonical = false
		}
		f, ok := statFields(line)
		if !ok || !validSHA256(f[0]) {
			return map[string]statRecord{}, false, nil
		}
		var rec statRecord
		rec.SHA256 = f[0]
		switch f[5] {
		case media.PNG:
			rec.MediaType = media.PNG
		case media.JPEG:
			rec.MediaType = media.JPEG
		case MediaUnknown:
			rec.MediaType = MediaUnknown
		default: // not what sniffMediaType returns
			return map[string]statRecord{}, false, nil
		}
		var errs [4]error
		rec.Size, errs[0] = strconv.ParseInt(f[1], 10, 64)
		rec.MTime, errs[1] = strconv.ParseInt(f[2], 10, 64)
		rec.CTime, errs[2] = strconv.ParseInt(f[3], 10, 64)
		rec.Ino, errs[3] = strconv.ParseUint(f[4], 10, 64)
		if errs[0] != nil || errs[1] != nil || errs[2] != nil || errs[3] != nil {
			return map[string]statRecord{}, false, nil
		}
		// A plain quoted path is both what Unquote reads in it and what
		// AppendQuote writes for it: it is cut from data as it is.
		p, plain := plainQuoted(f[6])
		if !plain {
			var err error
			if p, err = strconv.Unquote(f[6]); err != nil {
				return map[string]statRecord{}, false, nil
			}
		}
		if canonical {
			quotedOK := plain
			if !plain {
				quoted = strconv.AppendQuote(quoted[:0], p)
				quotedOK = string(quoted) == f[6]
			}
			canonical = (first || prev < p) && quotedOK &&
				canonicalInt(f[1], rec.Size) && canonicalInt(f[2], rec.MTime) &&
				canonicalInt(f[3], rec.CTime) && canonicalUint(f[4], rec.Ino)
		}
		prev = p
		if add != nil {
			add(rec)
		} else {
			out[p] = rec
		}
		if withPaths {
			paths = append(paths, p)
		}
	}
	return out, canonical, paths
}

// plainQuoted returns what is between the double quotes of q when q is
// a double quote, printable ASCII other than a double quote or a
// backslash, and a double quote: both what strconv.Unquote reads in q
// and what strconv.Quote quotes as q.
func plainQuoted(q string) (string, bool) {
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		return "", false
	}
	p := q[1 : len(q)-1]
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < ' ' || c > '~' || c == '"' || c == '\\' {
			return "", false
		}
	}
	return p, true
}

// canonicalInt reports whether s is how strconv.AppendInt writes v.
func canonicalInt(s string, v int64) bool {
	var buf [20]byte
	return string(strconv.AppendInt(buf[:0], v, 10)) == s
}

// canonicalUint reports whether s is how strconv.AppendUint writes v.
func canonicalUint(s string, v uint64) bool {
	var buf [20]byte
	return string(strconv.AppendUint(buf[:0], v, 10)) == s
}
