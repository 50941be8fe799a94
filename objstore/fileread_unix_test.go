//go:build unix

package objstore

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestFileStoreFIFO: a FIFO under an object's name is no object, found
// at once rather than waited on forever for a writer.
func TestFileStoreFIFO(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := mustOpen(t, "file://"+dir)
	body := []byte("a FIFO stands where these bytes would")
	obj := filepath.Join(dir, filepath.FromSlash(ObjectKey(sum(body))))
	if err := os.MkdirAll(filepath.Dir(obj), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(obj, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		var buf bytes.Buffer
		done <- s.Get(ctx, sum(body), &buf, 100)
	}()
	select {
	case err := <-done:
		if kind(err) != NotFound {
			t.Errorf("Get of a FIFO: %v, want kind NotFound", err)
		}
	case <-time.After(time.Minute): // a hang guard, not a timing
		if f, err := os.OpenFile(obj, os.O_WRONLY, 0); err == nil {
			f.Close()
		}
		t.Fatal("Get of a FIFO still waits after a minute")
	}
}

// TestFileStoreSymlink: a symbolic link under an object's or a record's
// name is no object, never followed: its target (a secret, a file that
// is not the store's) is neither read nor sized (an "object too large"
// error would say how large it is).
func TestFileStoreSymlink(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := mustOpen(t, "file://"+dir)
	body := []byte("a link stands where these bytes would")
	target := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(target, bytes.Repeat([]byte("s"), 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	obj := filepath.Join(dir, filepath.FromSlash(ObjectKey(sum(body))))
	if err := os.MkdirAll(filepath.Dir(obj), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, obj); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Has(ctx, sum(body)); ok || err != nil {
		t.Errorf("Has of a link: %v, %v; want false, nil", ok, err)
	}
	var buf bytes.Buffer
	err := s.Get(ctx, sum(body), &buf, 100)
	if kind(err) != NotFound || buf.Len() != 0 {
		t.Errorf("Get of a link: %v (%d bytes read), want kind NotFound", err, buf.Len())
	}
	if err != nil && bytes.Contains([]byte(err.Error()), []byte("4096")) {
		t.Errorf("Get of a link says its target's size: %v", err)
	}
}
