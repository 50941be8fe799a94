package objstore

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestFileStoreInputsDirectory: a directory standing where a record of
// inputs would be is no record, as fileblob had it.
func TestFileStoreInputsDirectory(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := mustOpen(t, "file://"+dir)
	digest := sum([]byte("some inputs"))
	if err := os.MkdirAll(filepath.Join(dir, "inputs", digest), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.GetInputs(ctx, digest); ok || err != nil {
		t.Errorf("GetInputs of a directory: %v, %v; want no record and no error", ok, err)
	}
}

// TestFileStoreObjectsReadableByTheTeam: a file:// store's objects and
// records are made 0644 less the umask, unnamed or not, so that a
// teammate under another user reads what this one uploaded.
func TestFileStoreObjectsReadableByTheTeam(t *testing.T) {
	want := 0o644 &^ processUmask()
	for _, named := range []bool{false, true} {
		ctx := context.Background()
		dir := t.TempDir()
		s := mustOpen(t, "file://"+dir)
		if named {
			s.procOnce.Do(func() {})
			s.noUnnamed.Store(true)
		}
		body := []byte("an image")
		if err := s.Put(ctx, sum(body), bytes.NewReader(body)); err != nil {
			t.Fatal(err)
		}
		h := sum(body)
		info, err := os.Stat(filepath.Join(dir, "sha256", h[:2], h))
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm(); got != want {
			t.Errorf("named temporary file %v: object mode %v, want %v", named, got, want)
		}
	}
}
