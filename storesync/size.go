package storesync

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/state"
)

// SizeError is an intact image, one whose bytes hash to the sha256
// recorded for it, whose size is not the one recorded: the record is
// wrong, not the image. The image is the store's object, or with Local
// the file at Path (push). The size came from the lockfile's entry at
// Addr (Lockfile:Line, Line 0 when it was not found), or, with Record
// set, from the store's record of a take's inputs (inputs/<digest>).
type SizeError struct {
	Addr     addrs.Addr
	Path     string
	Lockfile string
	Line     int
	Record   string
	Local    bool
	Recorded int64 // what the record says
	Actual   int64 // the image's size
	Object   string
}

func (e *SizeError) Error() string {
	if e.Record != "" {
		return fmt.Sprintf("the store's record %s says %d bytes, but the object %s it names is %d bytes and hashes to its name",
			e.Record, e.Recorded, e.Object, e.Actual)
	}
	where := e.Lockfile
	if e.Line > 0 {
		where += ":" + strconv.Itoa(e.Line)
	}
	if e.Local {
		return fmt.Sprintf("%s: %s: \"bytes\" says %d, but %s is %d bytes and hashes to the recorded sha256",
			where, e.Addr, e.Recorded, e.Path, e.Actual)
	}
	return fmt.Sprintf("%s: %s: \"bytes\" says %d, but the object in the store is %d bytes and hashes to its name (sha256 %s)",
		where, e.Addr, e.Recorded, e.Actual, e.Object)
}

// errSize marks a size mismatch that get found, for its caller to say
// where the size came from (a *SizeError).
type errSize struct{ recorded, actual int64 }

func (e *errSize) Error() string {
	return fmt.Sprintf("the object is %d bytes, not the %d recorded", e.actual, e.recorded)
}

// get writes the object sum to w, verified against its name. want is the
// size recorded for it (0: not known): it never raises the cap on what is
// read, maxObjectBytes, and w gets at most want bytes of the object. An
// object larger than the cap, or whose bytes do not hash to its name, is
// the store's error (TooLarge, Corrupt); an intact object of another size
// than want is an *errSize, after the whole object (within the cap) was
// hashed: only its hash can tell a wrong record from a damaged object.
func (s *Sync) get(ctx context.Context, sum string, w io.Writer, want int64) (int64, error) {
	cw := &capWriter{w: w, max: want}
	if want <= 0 || want > maxObjectBytes {
		cw.max = maxObjectBytes
	}
	if err := s.r.Get(ctx, sum, cw, maxObjectBytes); err != nil {
		return cw.n, err
	}
	if want > 0 && cw.n != want {
		return cw.n, &errSize{recorded: want, actual: cw.n}
	}
	return cw.n, nil
}

// capWriter passes at most max bytes to w and counts them all: the rest
// of an object longer than recorded is only hashed, never written.
type capWriter struct {
	w   io.Writer
	max int64
	n   int64
}

func (c *capWriter) Write(p []byte) (int, error) {
	room := c.max - c.n
	c.n += int64(len(p))
	if room <= 0 {
		return len(p), nil
	}
	if int64(len(p)) > room {
		if _, err := c.w.Write(p[:room]); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return c.w.Write(p)
}

// lockfileSize is the *SizeError of a size mismatch whose size came from
// the lockfile's entry at addr: its line is found in the lockfile in dir
// (the line of "bytes": N within the entry, or the entry's own), read
// again only now that an error is to be told.
func lockfileSize(dir string, addr addrs.Addr, path, sum string, es *errSize) *SizeError {
	return &SizeError{Addr: addr, Path: path, Lockfile: state.LockFileName, Line: entryLine(dir, addr, es.recorded),
		Recorded: es.recorded, Actual: es.actual, Object: sum}
}

// entryLine is the 1-based line of "bytes": n in the entry of addr in the
// lockfile in dir, else that of the entry's key, else 0.
func entryLine(dir string, addr addrs.Addr, n int64) int {
	data, err := os.ReadFile(filepath.Join(dir, state.LockFileName))
	if err != nil {
		return 0
	}
	key := strconv.AppendQuote(nil, addr.String())
	key = append(key, ':')
	at := bytes.Index(data, key)
	if at < 0 {
		return 0
	}
	line := 1 + bytes.Count(data[:at], []byte("\n"))
	rest := data[at:]
	// The entry ends at the next entry's key: a line that opens with a
	// quote at the key's indent, or the end of "images".
	if end := bytes.Index(rest[len(key):], []byte("\n    \"")); end >= 0 {
		rest = rest[:len(key)+end]
	}
	field := strconv.AppendInt([]byte(`"bytes": `), n, 10)
	if i := bytes.Index(rest, field); i >= 0 && !digitAt(rest, i+len(field)) {
		return line + bytes.Count(rest[:i], []byte("\n"))
	}
	return line
}

func digitAt(b []byte, i int) bool { return i < len(b) && b[i] >= '0' && b[i] <= '9' }
