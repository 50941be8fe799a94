package views

import (
	"bytes"
	"errors"
	"testing"

	"github.com/pixform/pixform/storesync"
)

// A pull's or push's line reads as English, done or failed.
func TestStoreStep(t *testing.T) {
	for _, tc := range []struct {
		verb string
		st   storesync.Step
		want string
	}{
		{"pulled", storesync.Step{Path: "images/a.png", Done: 1, Total: 3, Bytes: 2048}, "[1/3] pulled images/a.png (2 kB)\n"},
		{"pulled", storesync.Step{Path: "images/a.png", Done: 2, Total: 10, Err: errors.New("boom")}, "[ 2/10] pull failed: images/a.png: boom\n"},
		{"pushed", storesync.Step{Path: "b.png", Done: 3, Total: 3, Err: errors.New("denied")}, "[3/3] push failed: b.png: denied\n"},
	} {
		var b bytes.Buffer
		StoreStep(&b, tc.verb, tc.st)
		if b.String() != tc.want {
			t.Errorf("got %q, want %q", b.String(), tc.want)
		}
	}
}

// TestBytesText: a size for people, in GB past a thousand MB.
func TestBytesText(t *testing.T) {
	for n, want := range map[int64]string{
		999: "999 B", 1329: "1 kB", 2_100_000: "2.1 MB",
		1 << 30: "1.1 GB", 1e15: "1000000.0 GB",
	} {
		if got := bytesText(n); got != want {
			t.Errorf("bytesText(%d) = %q, want %q", n, got, want)
		}
	}
}
