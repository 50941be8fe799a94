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

// TestFileReaderNonblockingRead: the reader keeps the descriptor it
// opened without blocking as it is (a regular file ignores O_NONBLOCK),
// and a read that answers EAGAIN anyway (here a pipe with nothing in it
// yet) clears the flag and waits for the bytes instead of failing.
func TestFileReaderNonblockingRead(t *testing.T) {
	var p [2]int
	if err := syscall.Pipe(p[:]); err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(p[1])
	if err := syscall.SetNonblock(p[0], true); err != nil {
		t.Fatal(err)
	}
	body := []byte("bytes that come late")
	f := &fileReader{fd: p[0], size: int64(len(body)), left: int64(len(body))}
	defer f.Close()
	go func() {
		time.Sleep(10 * time.Millisecond) // only to make the first read find nothing, not asserted
		syscall.Write(p[1], body)
	}()
	buf := make([]byte, 64)
	n, err := f.Read(buf)
	if err != nil || string(buf[:n]) != string(body) {
		t.Fatalf("Read = %q, %v, want %q", buf[:n], err, body)
	}
	// A regular file: opened, read and never switched to blocking.
	dir := t.TempDir()
	name := filepath.Join(dir, "obj")
	if err := os.WriteFile(name, body, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := openRead(name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n, err = r.Read(buf)
	if err != nil || string(buf[:n]) != string(body) || r.blocking {
		t.Errorf("regular file: Read = %q, %v, cleared O_NONBLOCK %v", buf[:n], err, r.blocking)
	}
}
