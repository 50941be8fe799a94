package state

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
	"unsafe"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/media"
)

// A Recorder holds each entry's encoding once: the lockfile as last
// written is the entries' own fragments, shared, not a copy.
func TestRecorderHoldsEachEncodingOnce(t *testing.T) {
	start := lockN(50)
	r := NewRecorder(filepath.Join(t.TempDir(), LockFileName), start)
	defer r.Close()
	check := func(when string, n int) {
		t.Helper()
		r.mu.Lock()
		defer r.mu.Unlock()
		if len(r.recs) != n || len(r.disk) != len(r.recs) {
			t.Fatalf("%s: %d fragments, %d on disk, for %d entries", when, len(r.recs), len(r.disk), n)
		}
		for i, rf := range r.recs {
			if unsafe.SliceData(rf.frag) != unsafe.SliceData(r.disk[i]) {
				t.Errorf("%s: the fragment of %s on disk is a copy of its own", when, rf.addr)
			}
		}
	}
	check("after NewRecorder", 50)
	for i := 50; i < 80; i++ {
		if err := r.Set(addrs.MustParse(fmt.Sprintf("image.img[%d]", i)), entryN(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Delete(addrs.MustParse("image.img[3]")); err != nil {
		t.Fatal(err)
	}
	check("after writes", 79)
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

// A streamed write gathers at most its chunk's size per write(2), and
// writes what Lock.Marshal encodes.
func TestWriteFragsChunks(t *testing.T) {
	l := lockN(300)
	r := newRecorder(filepath.Join(t.TempDir(), LockFileName), l, func(string, []byte) error { return nil })
	defer r.Close()
	r.mu.Lock()
	frags := r.frags(nil)
	r.mu.Unlock()
	want := string(l.Marshal())
	for _, size := range []int{1, 7, 600, 4096, 1 << 20} {
		w := &recordingWriter{}
		if err := writeFrags(w, make([]byte, 0, size), frags); err != nil {
			t.Fatal(err)
		}
		if got := w.buf.String(); got != want {
			t.Fatalf("chunk %d: wrote %d bytes, want the %d of Marshal", size, len(got), len(want))
		}
		for _, n := range w.sizes {
			// A fragment larger than the chunk goes out alone.
			if n > size && n > 600 {
				t.Errorf("chunk %d: a write of %d bytes", size, n)
			}
		}
	}
	var empty recordingWriter
	if err := writeFrags(&empty, make([]byte, 0, 16), nil); err != nil || empty.buf.String() != string(NewLock().Marshal()) {
		t.Errorf("empty lockfile: %q, %v", empty.buf.String(), err)
	}
}

type recordingWriter struct {
	buf   bytes.Buffer
	sizes []int
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	w.sizes = append(w.sizes, len(p))
	return w.buf.Write(p)
}

// Snapshot decodes the Recorder's fragments one by one: for every lockfile
// in testdata (entries with takes, reviews, derived inputs), it is the
// lockfile the Recorder was given, before and after a write.
func TestRecorderSnapshotOfEachLockfile(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "lock", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, name := range files {
		l, err := ReadLock(name)
		if err != nil || len(l.Images) == 0 {
			continue // the invalid and empty ones test the parser
		}
		n++
		t.Run(filepath.Base(name), func(t *testing.T) {
			r := NewRecorder(filepath.Join(t.TempDir(), LockFileName), l)
			defer r.Close()
			want := string(l.Marshal())
			if got := string(r.Snapshot().Marshal()); got != want {
				t.Errorf("snapshot before a write:\n%s\nwant\n%s", got, want)
			}
			for a, e := range l.Images {
				if err := r.Set(a, e); err != nil {
					t.Fatal(err)
				}
				break
			}
			if got := string(r.Snapshot().Marshal()); got != want {
				t.Errorf("snapshot after a write:\n%s\nwant\n%s", got, want)
			}
		})
	}
	if n < 2 {
		t.Fatalf("only %d valid lockfiles in testdata/lock", n)
	}
}
