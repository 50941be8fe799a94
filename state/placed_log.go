package state

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/pixform/pixform/internal/nofollow"
	"github.com/pixform/pixform/internal/regfile"
	"github.com/pixform/pixform/internal/safepath"
)

// placedLogName is the log, under .pixform/, of the images an apply
// placed whose bytes the content cache did not hold by then: one line
// "<sha256> <path>" each, appended before the image is placed.
//
// A hard kill (kill -9, a lost terminal, the OOM killer) between placing
// such an image and recording it leaves no time to note it in the
// placing note (placingFile.Placed), and the content cache does not hold
// its bytes (a draft render, a local edit, a restore from the image
// store, a move, a render whose keeping in the cache failed): without
// the log, the next apply could not tell it from a file the user put
// there, and would refuse it. Each line is one write, appended, never
// synced: it survives a kill, which the kernel finishes the write for,
// and only a power loss loses it, after which the leftover is refused,
// the safe side. A paid render is kept in the cache before it is placed,
// and a restore from the cache is of cached bytes: neither writes a line.
//
// The log is tied to this checkout through the placing note: its lines
// count only at the paths the note (itself tied by the inode of
// .pixform) names, Begin drops a log it finds with no note of this
// checkout's (left by nothing this checkout did: copied in, or the note
// deleted by hand) before it appends to it, and End folds the lines of
// the paths it keeps noted into the note (Placed) and drops the log, or
// drops the log with the note. The log is appended to across runs that
// are killed, not rewritten: a tie inside it (a header) would need a
// rewrite or could be torn itself. A line a kill or a full disk cut
// short (the last, with no newline) is skipped, and so is the whole log
// when it is larger than maxNoteSize.
const placedLogName = "placed.log"

// maxNoteSize caps what is read of a note under .pixform/: a larger one
// is not one this checkout's pixform wrote, and is ignored, as a note
// from another checkout is. pixform's own reach about 280 bytes a
// removal and 150 a placed path: 256 MiB holds a million of either. A
// variable, so that a test can lower it.
var maxNoteSize = 256 << 20

// errNoteTooLarge is readWorkNote's refusal of a note over maxNoteSize.
var errNoteTooLarge = errors.New("larger than any note pixform writes")

// readWorkNote is readWorkFile for a note: at most maxNoteSize bytes.
func readWorkNote(p string) ([]byte, error) {
	f, err := regfile.Open(p, true)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if f.Size() > int64(maxNoteSize) {
		return nil, &os.PathError{Op: "read", Path: p, Err: errNoteTooLarge}
	}
	data, err := io.ReadAll(io.LimitReader(f, int64(maxNoteSize)+1))
	if err != nil {
		return nil, &os.PathError{Op: "read", Path: p, Err: err}
	}
	if len(data) > maxNoteSize {
		return nil, &os.PathError{Op: "read", Path: p, Err: errNoteTooLarge}
	}
	return data, nil
}

// readPlacedLog returns, by path (safepath.Key), the hashes the log of
// the working directory dir records as placed there, for the paths that
// noted says the placing note names; nil for no log, an unreadable one,
// or one over maxNoteSize.
func readPlacedLog(dir string, noted func(key string) bool) map[string][]string {
	data, _, found, err := readNoteData(dir, placedLogName)
	if err != nil || !found {
		return nil
	}
	var out map[string][]string
	seen := map[string]bool{} // path key and hash: a set, however many lines repeat
	for {
		line, rest, ok := bytes.Cut(data, []byte{'\n'})
		if !ok {
			break // no line, or the last cut short: skipped
		}
		data = rest
		sumb, pb, ok := bytes.Cut(line, []byte{' '})
		sum, p := string(sumb), string(pb)
		if !ok || !validSHA256(sum) || p == "" {
			continue
		}
		k := safepath.Key(p)
		if !noted(k) {
			continue
		}
		if out == nil {
			out = map[string][]string{}
		}
		if kh := k + "\x00" + sum; !seen[kh] {
			seen[kh] = true
			out[k] = append(out[k], sum)
		}
	}
	return out
}

// placedLog is a Store's handle on the log, opened for appending on the
// first line the run writes.
type placedLog struct {
	once sync.Once
	mu   sync.Mutex // guards f
	f    *os.File
}

// notePlaced appends, before the image of hash sum is placed at path
// (relative, slash-separated), the line that says so to the log. A log
// that cannot be written costs nothing but a refusal after a kill: it is
// not an error of the run's. A Store that Begin did not ready wrote no
// placing note, which alone gives a line its meaning: none. (A pick
// readies its Store as an apply does.)
func (s *LocalStore) notePlaced(path, sum string) {
	if !s.noted || !validSHA256(sum) || path == "" || strings.ContainsAny(path, "\n\r") {
		return
	}
	l := &s.plog
	l.once.Do(func() {
		f := openPlacedLog(s.dir)
		l.mu.Lock()
		l.f = f
		l.mu.Unlock()
	})
	var buf [256]byte // one line, on the stack for a path of usual length
	line := append(append(append(append(buf[:0], sum...), ' '), path...), '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		l.f.Write(line)
	}
}

// openPlacedLog opens dir's log for appending, nil when it cannot: a
// regular file only, never through a link. A log that ends inside a line
// (cut short) gets its newline first, so that the next line stands alone.
func openPlacedLog(dir string) *os.File {
	wd, exists, err := workDir(dir)
	if err != nil || !exists {
		return nil
	}
	f, err := nofollow.OpenFile(filepath.Join(wd, placedLogName), os.O_RDWR|os.O_CREATE|os.O_APPEND|syscall.O_NONBLOCK, 0o644)
	if err != nil {
		return nil
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil
	}
	if n := fi.Size(); n > 0 {
		var last [1]byte
		if _, err := f.ReadAt(last[:], n-1); err != nil {
			f.Close()
			return nil
		}
		if last[0] != '\n' {
			if _, err := f.Write([]byte{'\n'}); err != nil {
				f.Close()
				return nil
			}
		}
	}
	return f
}

// close closes the log, if open: a line after it is not written.
func (l *placedLog) close() {
	l.once.Do(func() {}) // no open after close; waits for one under way
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
}

// removePlacedLog drops dir's log.
func removePlacedLog(dir string) error { return removeNote(dir, placedLogName) }
