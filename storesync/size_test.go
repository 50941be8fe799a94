package storesync

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/state"
)

// capRemote is a fakeRemote that notes the cap each Get was given.
type capRemote struct {
	*fakeRemote
	caps []int64
}

func (r *capRemote) Get(ctx context.Context, sum string, w io.Writer, max int64) error {
	r.caps = append(r.caps, max)
	return r.fakeRemote.Get(ctx, sum, w, max)
}

// TestGetRecordedSize: a recorded size never raises the cap on what is
// read, w gets at most the recorded bytes, and an intact object of
// another size is told as such (errSize), whichever way the size is off.
func TestGetRecordedSize(t *testing.T) {
	body := bytes.Repeat([]byte("pixform"), 190) // 1,330 bytes
	n := int64(len(body))
	for _, tc := range []struct {
		name     string
		want     int64
		wrote    int64
		mismatch bool
	}{
		{"right", n, n, false},
		{"unknown", 0, n, false},
		{"too small", 100, 100, true},
		{"too large", n + 1, n, true},
		{"beyond any image", 1e15, n, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			f.objects[sum(body)] = body
			r := &capRemote{fakeRemote: f}
			s, err := New(t.TempDir(), r, 1)
			if err != nil {
				t.Fatal(err)
			}
			var w bytes.Buffer
			got, err := s.get(context.Background(), sum(body), &w, tc.want)
			var es *errSize
			if tc.mismatch != errors.As(err, &es) {
				t.Fatalf("get with %d recorded: %v, want a mismatch: %v", tc.want, err, tc.mismatch)
			}
			if tc.mismatch && (es.recorded != tc.want || es.actual != n) {
				t.Errorf("mismatch %+v, want recorded %d, actual %d", *es, tc.want, n)
			}
			if !tc.mismatch && err != nil {
				t.Fatal(err)
			}
			if got != n || int64(w.Len()) != tc.wrote || !bytes.Equal(w.Bytes(), body[:tc.wrote]) {
				t.Errorf("read %d, wrote %d bytes; want %d read, the first %d written", got, w.Len(), n, tc.wrote)
			}
			if len(r.caps) != 1 || r.caps[0] != maxObjectBytes {
				t.Errorf("caps asked of the store %v, want [%d]", r.caps, int64(maxObjectBytes))
			}
		})
	}
}

// TestEntryLine: a size mismatch points at the entry's "bytes" line in
// the lockfile, not at another entry's with the same value.
func TestEntryLine(t *testing.T) {
	dir := t.TempDir()
	lock := state.NewLock()
	e := state.Entry{Provider: "imagine", Path: "a.png", SHA256: strings.Repeat("a", 64), Bytes: 100, MediaType: "image/png", Width: 1, Height: 1}
	a, b := addrs.Addr{Name: "a"}, addrs.Addr{Name: "b"}
	lock.Images[a] = e
	e.Path = "b.png"
	lock.Images[b] = e
	data := lock.Marshal()
	if err := os.WriteFile(filepath.Join(dir, state.LockFileName), data, 0o644); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	for _, tc := range []struct {
		addr addrs.Addr
		n    int64
		want string
	}{
		{a, 100, `"bytes": 100,`},
		{b, 100, `"bytes": 100,`},
		{b, 10, `"image.b": {`},
	} {
		l := entryLine(dir, tc.addr, tc.n)
		if l < 1 || l > len(lines) {
			t.Fatalf("entryLine(%s, %d) = %d", tc.addr, tc.n, l)
		}
		if got := strings.TrimSpace(lines[l-1]); got != tc.want {
			t.Errorf("entryLine(%s, %d) = %d: %q, want %q", tc.addr, tc.n, l, got, tc.want)
		}
		if tc.addr == b && tc.n == 100 && l == entryLine(dir, a, 100) {
			t.Errorf("entryLine of image.b points at image.a's line %d", l)
		}
	}
	if l := entryLine(dir, addrs.Addr{Name: "absent"}, 100); l != 0 {
		t.Errorf("entryLine of an absent entry = %d, want 0", l)
	}
}

// TestObjectGetSize: an apply's restore tells a size mismatch with where
// the size came from: the lockfile's entry (file:line) or the store's
// record of a take's inputs.
func TestObjectGetSize(t *testing.T) {
	body := bytes.Repeat([]byte("pixform"), 190)
	dir := t.TempDir()
	lock := state.NewLock()
	a := addrs.Addr{Name: "a"}
	lock.Images[a] = state.Entry{Provider: "imagine", Path: "a.png", SHA256: sum(body), Bytes: 100, MediaType: "image/png", Width: 1, Height: 1}
	if err := os.WriteFile(filepath.Join(dir, state.LockFileName), lock.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	f := newFake()
	f.objects[sum(body)] = body
	s, err := New(dir, f, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		o    object
		want string
	}{
		{object{sum: sum(body), bytes: 100, addr: a, path: "a.png"}, `pixform.lock.json:14: image.a: "bytes" says 100, but the object in the store is 1330 bytes`},
		{object{sum: sum(body), bytes: 100, addr: a, path: "a.png", record: "inputs/d"}, "the store's record inputs/d says 100 bytes, but the object " + sum(body) + " it names is 1330 bytes"},
		{object{sum: sum(body), bytes: int64(len(body)), addr: a}, ""},
	} {
		err := tc.o.get(context.Background(), s, io.Discard)
		var se *SizeError
		if tc.want == "" {
			if err != nil {
				t.Errorf("%+v: %v", tc.o, err)
			}
			continue
		}
		if !errors.As(err, &se) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want a *SizeError saying %q", tc.o, err, tc.want)
		}
	}
}
