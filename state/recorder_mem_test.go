package state

import (
	"fmt"
	"path/filepath"
	"testing"
	"unsafe"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/media"
)

// within reports whether b's bytes lie inside buf's backing array.
func within(b, buf []byte) bool {
	if len(b) == 0 || cap(buf) == 0 {
		return false
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return p >= lo && p+uintptr(len(b)) <= lo+uintptr(cap(buf))
}

// A Recorder holds each entry's encoding once: every fragment of what is
// on disk points into the lockfile as last encoded, and a fragment of a
// change not yet written is a slice of its exact size.
func TestRecorderHoldsEachEncodingOnce(t *testing.T) {
	start := lockN(50)
	r := NewRecorder(filepath.Join(t.TempDir(), LockFileName), start)
	defer r.Close()
	check := func(when string) {
		t.Helper()
		r.mu.Lock()
		defer r.mu.Unlock()
		if len(r.recs) != len(r.lock.Images) {
			t.Fatalf("%s: %d fragments for %d entries", when, len(r.recs), len(r.lock.Images))
		}
		for _, rf := range r.recs {
			k, f := rf.addr, rf.frag
			if !within(f, r.disk) {
				t.Errorf("%s: the fragment of %s is a copy of its own, not the lockfile's bytes", when, k)
			}
			if cap(f) != len(f) {
				t.Errorf("%s: the fragment of %s has cap %d, len %d: an append could overwrite the next entry", when, k, cap(f), len(f))
			}
		}
	}
	check("after NewRecorder")
	for i := 50; i < 80; i++ {
		if err := r.Set(addrs.MustParse(fmt.Sprintf("image.img[%d]", i)), entryN(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Delete(addrs.MustParse("image.img[3]")); err != nil {
		t.Fatal(err)
	}
	check("after writes")
	want := lockN(80)
	delete(want.Images, addrs.MustParse("image.img[3]"))
	if got, w := string(r.Snapshot().Marshal()), string(want.Marshal()); got != w {
		t.Errorf("snapshot differs from the lockfile of the changes:\n%s\nwant\n%s", got, w)
	}
	// A fragment of a change not yet encoded is its exact size.
	r.mu.Lock()
	f := r.frag(addrs.MustParse("image.x"), entryN(1))
	r.mu.Unlock()
	if cap(f) > len(f)+len(f)/8 {
		t.Errorf("frag: cap %d for %d bytes", cap(f), len(f))
	}
}

// entryDigest tells apart any two entries that the lockfile writes
// differently, and no two that it writes the same.
func TestEntryDigest(t *testing.T) {
	base := entryN(7)
	tests := map[string]struct {
		change func(*Entry)
		same   bool
	}{
		"equal":              {func(*Entry) {}, true},
		"nil vs empty takes": {func(e *Entry) { e.Takes = []Take{} }, true},
		"prompt":             {func(e *Entry) { e.Inputs.Prompt += " " }, false},
		"seed":               {func(e *Entry) { e.Inputs.Seed++ }, false},
		"source":             {func(e *Entry) { e.Inputs.Source = "image.a" }, false},
		"resize":             {func(e *Entry) { e.Inputs.Resize = "640x0" }, false},
		"candidates":         {func(e *Entry) { e.Inputs.Candidates = 2 }, false},
		"transparent":        {func(e *Entry) { e.Inputs.Transparent = true }, false},
		"path":               {func(e *Entry) { e.Path = "images/other.png" }, false},
		"sha256":             {func(e *Entry) { e.SHA256 = fmt.Sprintf("%064x", 8) }, false},
		"bytes":              {func(e *Entry) { e.Bytes++ }, false},
		"media type":         {func(e *Entry) { e.MediaType = media.JPEG }, false},
		"width":              {func(e *Entry) { e.Width++ }, false},
		"takes":              {func(e *Entry) { e.Takes = []Take{{Seed: 1, SHA256: e.SHA256, Bytes: e.Bytes}} }, false},
		"picked":             {func(e *Entry) { e.Picked = 1 }, false},
		"approved": {func(e *Entry) {
			e.Approved = &Approval{By: "a", At: "2026-01-01T00:00:00Z", SHA256: e.SHA256}
		}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			o := base
			tc.change(&o)
			if got := entryDigest(base) == entryDigest(o); got != tc.same {
				t.Errorf("same digest = %v, want %v", got, tc.same)
			}
			if base.Equal(o) != tc.same {
				t.Errorf("Equal = %v: the table is wrong", !tc.same)
			}
		})
	}
}

// A large lockfile's buffers leave bounded room to grow: the loop keeps
// two of them for the whole run.
func TestRecorderEncodeHeadroom(t *testing.T) {
	r := NewRecorder(filepath.Join(t.TempDir(), LockFileName), lockN(4000))
	defer r.Close()
	r.mu.Lock()
	n, c := len(r.disk), cap(r.disk)
	r.mu.Unlock()
	if n < 1<<20 {
		t.Fatalf("lockfile of %d bytes: the test wants one over 1 MiB", n)
	}
	// encode counts a comma per entry, one more than it writes.
	if c > n+1+maxEncodeHeadroom {
		t.Errorf("buffer of %d bytes holds a lockfile of %d: more than %d to spare", c, n, maxEncodeHeadroom)
	}
	for _, tc := range []struct{ n, want int }{{0, 0}, {1000, 250}, {1 << 20, 256 << 10}, {8 << 20, 256 << 10}} {
		if got := encodeHeadroom(tc.n); got != tc.want {
			t.Errorf("encodeHeadroom(%d) = %d, want %d", tc.n, got, tc.want)
		}
	}
}
