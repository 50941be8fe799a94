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

// Annotate records e, a new version of addr's entry that names the same
// file as the one recorded (same path and sha256) and changes only what
// the lockfile says of it, such as its approval. The file must still hold
// those bytes (else a *FileChangedError), so that a review is always of
// what is on disk.
func (s *LocalStore) Annotate(ctx context.Context, addr addrs.Addr, e Entry) error {
	x := s.idx
	x.mu.Lock()
	defer x.mu.Unlock()
	cur, ok := s.j.Snapshot().Images[addr]
	if !ok || cur.Path != e.Path || cur.SHA256 != e.SHA256 {
		return fmt.Errorf("%s: the lockfile no longer records this image as it was read (another pixform changed it?); run the command again", addr)
	}
	got, err := hashFile(s.abs(e.Path), nil)
	switch {
	case err != nil:
		return fmt.Errorf("read %s: %w", e.Path, err)
	case !got.exists:
		return &FileChangedError{Addr: addr, Path: e.Path, Missing: true}
	case got.sum != e.SHA256:
		return &FileChangedError{Addr: addr, Path: e.Path}
	}
	return s.record(ctx, "the review", addr, nil, map[addrs.Addr]Entry{addr: e})
}
