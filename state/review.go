package state

import (
	"context"
	"fmt"

	"github.com/pixform/pixform/addrs"
)

// FileChangedError is a review refused because the file at the entry's
// path is not the bytes the lockfile records.
type FileChangedError struct {
	Addr addrs.Addr
	Path string
	// Missing says the file is gone; else it holds other bytes.
	Missing bool
}

func (e *FileChangedError) Error() string {
	if e.Missing {
		return fmt.Sprintf("%s: %s is missing", e.Addr, e.Path)
	}
	return fmt.Sprintf("%s: %s is not the image the lockfile records (changed on disk since)", e.Addr, e.Path)
}

// Annotation is a new version Entry of the entry Was that the lockfile
// records under Addr, for AnnotateAll: same path and sha256, and only
// what the lockfile says of the file changed.
type Annotation struct {
	Addr  addrs.Addr
	Was   Entry
	Entry Entry
}

// AnnotateAll records each of as, in order, in one lockfile write: a new
// version of an entry that names the same file as the one recorded (same
// path and sha256) and changes only what the lockfile says of it, such as
// its approval. Each is checked against the Store's index of what the
// lockfile records (Was must be the entry recorded under Addr, exactly),
// and its file must still hold those bytes (else a *FileChangedError), so
// that a review is always of what is on disk. The annotations before the first that fails are recorded,
// and n says how many; nothing is recorded when the write fails.
func (s *LocalStore) AnnotateAll(ctx context.Context, as []Annotation) (n int, err error) {
	x := s.idx
	x.mu.Lock()
	defer x.mu.Unlock()
	sets := make(map[addrs.Addr]Entry, len(as))
	var stop error
	for _, a := range as {
		if stop = s.annotatable(a); stop != nil {
			break
		}
		sets[a.Addr] = a.Entry
		n++
	}
	if n == 0 {
		return 0, stop
	}
	if err := s.record(ctx, "the review", as[0].Addr, nil, sets); err != nil {
		return 0, err
	}
	for a, e := range sets {
		x.rec[a] = indexed{e.Path, entryDigest(e)}
	}
	return n, stop
}

// annotatable says why a cannot be recorded, or nil. The caller holds
// s.idx.mu.
func (s *LocalStore) annotatable(a Annotation) error {
	e := a.Entry
	r, ok := s.idx.rec[a.Addr]
	if !ok || r.path != e.Path || a.Was.Path != e.Path || a.Was.SHA256 != e.SHA256 || r.sum != entryDigest(a.Was) {
		return fmt.Errorf("%s: the lockfile no longer records this image as it was read (another pixform changed it?); run the command again", a.Addr)
	}
	got, err := hashFile(s.abs(e.Path), nil)
	switch {
	case err != nil:
		return fmt.Errorf("read %s: %w", e.Path, err)
	case !got.exists:
		return &FileChangedError{Addr: a.Addr, Path: e.Path, Missing: true}
	case got.sum != e.SHA256:
		return &FileChangedError{Addr: a.Addr, Path: e.Path}
	}
	return nil
}
