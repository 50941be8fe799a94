package state

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/pixform/pixform/internal/nofollow"
)

// storeDirName holds, inside .pixform/, one note per image store.
const storeDirName = "store"

// Uploaded is the note of the objects known to be in one image store:
// .pixform/store/<hash of the store's URL>.uploaded, one sha256 a line,
// appended as uploads land. It is a cache of facts about the store, never
// the only copy of anything: a line a kill cut short is skipped, a lost
// line costs one existence check, and the note of another store is
// another file. It is safe for concurrent use.
//
// Its first line ties it to this checkout, by the device and inode of
// .pixform (uploadedHeader), as the placing note is: a note that came
// from elsewhere (committed in a pull request, to make plan -check pass
// against a store that lacks its images, or to skip their uploads;
// copied from another checkout; written by a pixform before the tie) is
// ignored, every object it lists asked of the store again, and the note
// written anew, tied, on the first Add.
type Uploaded struct {
	path string

	mu  sync.Mutex
	set map[string]bool
	f   *os.File // opened for append on the first Add
	// cut says the note ends inside a line, which the first Add ends.
	cut bool
	// own says the note at path is this checkout's: the first Add
	// appends to it; otherwise it writes a new one, tied.
	own bool
}

// uploadedHeader is the first line of the note of the checkout whose
// .pixform has the device and inode id.
func uploadedHeader(id fileID) string {
	return fmt.Sprintf("pixform uploaded 1 %d %d\n", id.Dev, id.Ino)
}

// OpenUploaded reads the note of the store whose URL is store in the
// working directory dir. A missing note is an empty one, and so is a note
// that is not this checkout's (its first line is not uploadedHeader of
// this .pixform), or larger than any pixform writes (maxNoteSize).
func OpenUploaded(dir, store string) (*Uploaded, error) {
	h := sha256.Sum256([]byte(store))
	u := &Uploaded{set: map[string]bool{}}
	wd, exists, err := workSubDir(dir, storeDirName)
	u.path = filepath.Join(wd, hex.EncodeToString(h[:8])+".uploaded")
	if err != nil || !exists {
		return u, err
	}
	data, err := readWorkNote(u.path)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNoteTooLarge) {
		return u, nil
	}
	if err != nil {
		return u, fmt.Errorf("read %s: %w", u.path, err)
	}
	id, ok := workDirID(dir)
	header := uploadedHeader(id)
	if !ok || !bytes.HasPrefix(data, []byte(header)) {
		return u, nil // another checkout's, or an older pixform's
	}
	data = data[len(header):]
	u.own = true
	u.cut = len(data) > 0 && data[len(data)-1] != '\n'
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if line := sc.Text(); isHex64(line) {
			u.set[line] = true
		}
	}
	return u, nil
}

// isHex64 reports whether s is a lower-case hex sha256.
func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Has reports whether the object sum is known to be in the store.
func (u *Uploaded) Has(sum string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.set[sum]
}

// Len is the number of objects known to be in the store.
func (u *Uploaded) Len() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.set)
}

// Add notes that the objects sums are in the store. The note is not
// synced: losing its tail to a crash only costs a check later.
func (u *Uploaded) Add(dir string, sums ...string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	var b []byte
	for _, s := range sums {
		if !isHex64(s) || u.set[s] {
			continue
		}
		u.set[s] = true
		b = append(append(b, s...), '\n')
	}
	if len(b) == 0 {
		return nil
	}
	if u.f == nil {
		if _, err := ensureWorkSubDir(dir, storeDirName); err != nil {
			return err
		}
		if !u.own {
			// None of this checkout's: a new note, tied, with the
			// objects of this Add, the only ones known (those of the
			// note found are not).
			return u.rewrite(dir, b)
		}
		f, err := nofollow.OpenFile(u.path, os.O_WRONLY|os.O_APPEND, 0o644)
		if errors.Is(err, fs.ErrNotExist) {
			return u.rewrite(dir, u.lines()) // removed since it was read
		}
		if err != nil {
			return fmt.Errorf("note uploads in %s: %w", u.path, err)
		}
		u.f = f
		if u.cut {
			b = append([]byte{'\n'}, b...)
			u.cut = false
		}
	}
	if _, err := u.f.Write(b); err != nil {
		return fmt.Errorf("note uploads in %s: %w", u.path, err)
	}
	return nil
}

// lines is every object of u.set, one a line.
func (u *Uploaded) lines() []byte {
	b := make([]byte, 0, 65*len(u.set))
	for s := range u.set {
		b = append(append(b, s...), '\n')
	}
	return b
}

// rewrite replaces the note with one of this checkout's that lists lines
// (a new file renamed over it; not synced, as Add), and leaves it open
// for append. With no inode to tie a note to, none is written: the
// objects are known for this run only.
func (u *Uploaded) rewrite(dir string, lines []byte) error {
	if u.f != nil {
		u.f.Close()
		u.f = nil
	}
	u.cut = false
	if _, err := ensureWorkSubDir(dir, storeDirName); err != nil {
		return err
	}
	id, ok := workDirID(dir)
	if !ok {
		return nil
	}
	b := append([]byte(uploadedHeader(id)), lines...)
	if err := WriteFileAtomic(u.path, b); err != nil {
		return fmt.Errorf("note uploads in %s: %w", u.path, err)
	}
	u.own = true
	f, err := nofollow.OpenFile(u.path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("note uploads in %s: %w", u.path, err)
	}
	u.f = f
	return nil
}

// Forget notes that the objects sums are no longer in the store: the
// note is rewritten without them (a new file renamed over it; not synced,
// as Add).
func (u *Uploaded) Forget(dir string, sums ...string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	changed := false
	for _, s := range sums {
		if u.set[s] {
			delete(u.set, s)
			changed = true
		}
	}
	if !changed {
		return nil
	}
	return u.rewrite(dir, u.lines())
}

// Close closes the note.
func (u *Uploaded) Close() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.f == nil {
		return nil
	}
	err := u.f.Close()
	u.f = nil
	return err
}

// Snapshot returns the lockfile as last written: after Commit, Delete and
// Move have returned, every change they made.
func (s *LocalStore) Snapshot() *Lock { return s.j.Snapshot() }
