package regfile

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFileRead: a read of a file ends with io.EOF at its
// end only: a read into an empty buffer reads nothing, and no error.
func TestFileRead(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "obj")
	if err := os.WriteFile(name, []byte("abc"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		sizes []int // buffer sizes read in turn
		want  string
		errs  []error
	}{
		{"empty buffer first", []int{0, 3, 0, 1}, "abc", []error{nil, nil, nil, io.EOF}},
		{"small buffers", []int{2, 2, 1}, "abc", []error{nil, nil, io.EOF}},
		{"large buffer", []int{10, 10}, "abc", []error{nil, io.EOF}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := Open(name, false)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var got strings.Builder
			for i, n := range c.sizes {
				p := make([]byte, n)
				k, err := f.Read(p)
				got.Write(p[:k])
				if err != c.errs[i] {
					t.Errorf("read %d of %d bytes: %d, %v; want error %v", i, n, k, err, c.errs[i])
				}
			}
			if got.String() != c.want {
				t.Errorf("read %q, want %q", got.String(), c.want)
			}
		})
	}
}

// TestReadFileSizes: ReadFile reads what os.ReadFile reads, for files of
// sizes around the first read's.
func TestReadFileSizes(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{0, 1, 511, 512, 513, 4096, 100_000} {
		name := filepath.Join(dir, fmt.Sprint(n))
		data := bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n]
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := ReadFile(name, true)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%d bytes: read %d, %v", n, len(got), err)
		}
	}
}
