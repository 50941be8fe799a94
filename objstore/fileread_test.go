package objstore

import (
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
