//go:build unix

package regfile

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestFileNonblockingRead: the reader keeps the descriptor it
// opened without blocking as it is (a regular file ignores O_NONBLOCK),
// and a read that answers EAGAIN anyway (here a pipe with nothing in it
// yet) clears the flag and waits for the bytes instead of failing.
func TestFileNonblockingRead(t *testing.T) {
	var p [2]int
	if err := syscall.Pipe(p[:]); err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(p[1])
	if err := syscall.SetNonblock(p[0], true); err != nil {
		t.Fatal(err)
	}
	body := []byte("bytes that come late")
	f := &File{fd: p[0], size: int64(len(body)), left: int64(len(body))}
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
	r, err := Open(name, false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n, err = r.Read(buf)
	if err != nil || string(buf[:n]) != string(body) || r.blocking {
		t.Errorf("regular file: Read = %q, %v, cleared O_NONBLOCK %v", buf[:n], err, r.blocking)
	}
}

// TestOpen: only a regular file is opened; a FIFO is refused at once
// (not waited on), and with noFollow so is a symbolic link at the name.
func TestOpen(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		noFollow bool
		want     error // nil: opened
	}{
		{file, false, nil},
		{file, true, nil},
		{link, false, nil},
		{link, true, syscall.ELOOP},
		{fifo, false, ErrNotRegular},
		{dir, false, ErrNotRegular},
		{filepath.Join(dir, "none"), false, os.ErrNotExist},
	} {
		f, err := Open(tt.name, tt.noFollow)
		switch {
		case tt.want == nil && err != nil, tt.want != nil && !errors.Is(err, tt.want):
			t.Errorf("Open(%s, noFollow %v) = %v, want %v", filepath.Base(tt.name), tt.noFollow, err, tt.want)
		case err == nil:
			if f.Size() != 5 {
				t.Errorf("Open(%s).Size() = %d, want 5", filepath.Base(tt.name), f.Size())
			}
			f.Close()
		}
	}
}
