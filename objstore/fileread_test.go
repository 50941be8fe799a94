package objstore

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFileStoreInputsDirectory: a directory standing where a record of
// inputs (or an object) would be is no record, as fileblob had it, and
// the next upload replaces it when it is empty.
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
	// An upload repairs it: the empty directory gives way to the record.
	rec := Record{SHA256: sum([]byte("image")), Provider: "imagine", MediaType: "image/png", Bytes: 5, Width: 1, Height: 1}
	if err := s.PutInputs(ctx, digest, rec); err != nil {
		t.Fatalf("PutInputs over an empty directory: %v", err)
	}
	if got, ok, err := s.GetInputs(ctx, digest); !ok || err != nil || got != rec {
		t.Errorf("GetInputs after PutInputs over an empty directory: %+v, %v, %v; want the record", got, ok, err)
	}
	// The same for an object, and through PutWithInputs.
	body := []byte("image")
	obj := filepath.Join(dir, "sha256", sum(body)[:2], sum(body))
	d2 := sum([]byte("other inputs"))
	for _, p := range []string{obj, filepath.Join(dir, "inputs", d2)} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutWithInputs(ctx, sum(body), bytes.NewReader(body), []string{d2}, rec); err != nil {
		t.Fatalf("PutWithInputs over empty directories: %v", err)
	}
	var buf bytes.Buffer
	if err := s.Get(ctx, sum(body), &buf, 100); err != nil || buf.String() != string(body) {
		t.Errorf("Get after Put over an empty directory: %q, %v", buf.String(), err)
	}
	if got, ok, err := s.GetInputs(ctx, d2); !ok || err != nil || got != rec {
		t.Errorf("GetInputs(%s) = %+v, %v, %v; want the record", d2, got, ok, err)
	}
	// A directory that holds something is the user's: left, and said.
	d3 := sum([]byte("third inputs"))
	keep := filepath.Join(dir, "inputs", d3, "kept")
	if err := os.MkdirAll(keep, 0o755); err != nil {
		t.Fatal(err)
	}
	err := s.PutInputs(ctx, d3, rec)
	if kind(err) != Corrupt || !strings.Contains(err.Error(), filepath.Join(dir, "inputs", d3)) {
		t.Errorf("PutInputs over a directory with a file: %v, want kind Corrupt naming it", err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("the directory's content: %v", err)
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

// TestFileStoreDirMovedOrRemoved: a file:// store keeps a descriptor of
// each of its directories to make objects in, but names each object by
// its path: an object's directory moved away (by hand) or removed since
// the store first wrote there gets no object of a later Put, which lands
// under its own name; and the older /proc way of naming works too.
func TestFileStoreDirMovedOrRemoved(t *testing.T) {
	ctx := context.Background()
	// Bodies whose objects share one directory, sha256/<2 hex>/.
	var bodies [][]byte
	prefix := ""
	for i := 0; len(bodies) < 4; i++ {
		b := []byte(fmt.Sprint("image ", i))
		switch h := sum(b); {
		case prefix == "":
			prefix = h[:2]
			bodies = append(bodies, b)
		case h[:2] == prefix:
			bodies = append(bodies, b)
		}
	}
	for _, how := range []string{"moved", "removed"} {
		for _, noEmptyPath := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, no AT_EMPTY_PATH %v", how, noEmptyPath), func(t *testing.T) {
				dir := t.TempDir()
				s := mustOpen(t, "file://"+dir)
				s.noEmptyPath.Store(noEmptyPath)
				if err := s.Put(ctx, sum(bodies[0]), bytes.NewReader(bodies[0])); err != nil {
					t.Fatal(err)
				}
				sub := filepath.Join(dir, "sha256", prefix)
				var err error
				if how == "moved" {
					err = os.Rename(sub, filepath.Join(dir, "trash"))
				} else {
					err = os.RemoveAll(sub)
				}
				if err != nil {
					t.Fatal(err)
				}
				if how == "moved" {
					if err := os.Mkdir(sub, 0o755); err != nil {
						t.Fatal(err)
					}
				}
				for _, b := range bodies[1:] {
					if err := s.Put(ctx, sum(b), bytes.NewReader(b)); err != nil {
						t.Fatalf("Put after the directory was %s: %v", how, err)
					}
					var buf bytes.Buffer
					if err := s.Get(ctx, sum(b), &buf, 100); err != nil || buf.String() != string(b) {
						t.Errorf("Get after the directory was %s: %q, %v", how, buf.String(), err)
					}
				}
				if how == "moved" {
					if entries, _ := os.ReadDir(filepath.Join(dir, "trash")); len(entries) != 1 {
						t.Errorf("the moved directory holds %d entries, want only the first object", len(entries))
					}
				}
			})
		}
	}
}
