//go:build linux

package executor

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
)

// The output's directory is moved outside the working directory while an
// image that must be transcoded is rendered, and a symbolic link left in
// its place: the transcoded image is written nowhere through the link
// (it goes into the file the Store made), and nothing is placed outside.
func TestTranscodeDirSwappedForLink(t *testing.T) {
	root := t.TempDir()
	dir, moved := filepath.Join(root, "work"), filepath.Join(root, "moved")
	if err := os.MkdirAll(filepath.Join(dir, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	body := jpegOf(t, 16, 9)
	prov := &fakeProvider{render: func(_ context.Context, _ Request, w io.Writer) error {
		if err := os.Rename(filepath.Join(dir, "out"), moved); err != nil {
			return err
		}
		if err := os.Symlink(moved, filepath.Join(dir, "out")); err != nil {
			return err
		}
		_, err := w.Write(body)
		return err
	}}
	rec := newFakeRecorder(t, dir, nil)
	res, _ := Apply(context.Background(), &planner.Plan{Provider: providers.Imagine, Changes: []planner.Change{create("hero", "out/hero.png", 3)}}, Options{
		Dir: dir, Provider: prov, Store: rec.store(nil), Limiter: newTestLimiter(1), Parallelism: 1, MaxRetries: 0,
	})
	if res.Generated != 0 {
		t.Errorf("generated %d through a directory swapped for a link", res.Generated)
	}
	des, err := os.ReadDir(moved)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		t.Errorf("%s holds %s, written through the link", moved, de.Name())
	}
}
