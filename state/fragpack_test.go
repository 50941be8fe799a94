package state

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/pixform/pixform/addrs"
)

// An entry with the common fields only is packed, whatever its values
// hold; any other is kept as encoded. Either way the fragment unpacks to
// the entry's encoding.
func TestPackFrag(t *testing.T) {
	with := func(f func(*Entry)) Entry {
		e := entryN(3)
		f(&e)
		return e
	}
	tests := map[string]struct {
		addr   string
		entry  Entry
		packed bool
	}{
		"common":             {"image.img[3]", entryN(3), true},
		"string key":         {`image.s["a \"b\""]`, entryN(3), true},
		"empty strings":      {"image.a", with(func(e *Entry) { e.Inputs.Style, e.Inputs.AspectRatio = "", "" }), true},
		"negative seed":      {"image.a", with(func(e *Entry) { e.Inputs.Seed = -42 }), true},
		"newline in prompt":  {"image.a", with(func(e *Entry) { e.Inputs.Prompt = "a\nb\r\n" }), true},
		"a field name in it": {"image.a", with(func(e *Entry) { e.Inputs.Prompt = "\",\n        \"style\": \"" }), true},
		"zero size":          {"image.a", with(func(e *Entry) { e.Width, e.Height, e.Bytes = 0, 0, 0 }), true},
		"derived": {"image.a", with(func(e *Entry) {
			e.Inputs.Operation, e.Inputs.Source, e.Inputs.SourceSHA256 = "resize", "image.b", e.SHA256
		}), false},
		"candidates": {"image.a", with(func(e *Entry) {
			e.Inputs.Candidates = 2
			e.Takes = []Take{{Seed: 1, SHA256: e.SHA256, Bytes: 1}, {Seed: 2, SHA256: e.SHA256, Bytes: 2}}
		}), false},
		"approved": {"image.a", with(func(e *Entry) { e.Approved = &Approval{By: "me", At: "2026-01-01T00:00:00Z", SHA256: e.SHA256} }), false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			enc := appendEntry(nil, addrs.MustParse(tc.addr), tc.entry)
			dst := []byte("kept")
			got, _, ok := packFrag(dst, enc, nil)
			if ok != tc.packed {
				t.Fatalf("packed %v, want %v", ok, tc.packed)
			}
			if !bytes.HasPrefix(got, []byte("kept")) {
				t.Fatalf("packFrag changed what dst held: %q", got)
			}
			frag := got[len("kept"):]
			if !ok {
				if len(frag) != 0 {
					t.Fatalf("not packed, yet appended %q", frag)
				}
				frag = enc
			} else {
				if len(frag) >= len(enc)*3/4 {
					t.Errorf("packed %d bytes into %d", len(enc), len(frag))
				}
				if n := unpackedLen(frag); n != len(enc) {
					t.Errorf("unpackedLen = %d, want %d", n, len(enc))
				}
			}
			if u := unpackFrag(nil, frag); !bytes.Equal(u, enc) {
				t.Errorf("unpacks to\n%s\nwant\n%s", u, enc)
			}
			// Through a chunk smaller than the entry (piece by piece) and
			// one that holds it whole.
			for _, size := range []int{64, 4096} {
				var w recordingWriter
				if err := writeFrags(&w, make([]byte, 0, size), [][]byte{frag, frag}); err != nil {
					t.Fatal(err)
				}
				if want := encodeFrags(nil, [][]byte{enc, enc}); !bytes.Equal(w.buf.Bytes(), want) {
					t.Errorf("chunk %d: writeFrags wrote\n%s\nwant\n%s", size, w.buf.Bytes(), want)
				}
			}
		})
	}
}

// Whatever packFrag is given, it packs only what unpacks to it.
func FuzzPackFrag(f *testing.F) {
	f.Add(appendEntry(nil, addrs.MustParse("image.a"), entryN(1)))
	f.Add([]byte("\n    x: {\n"))
	f.Fuzz(func(t *testing.T, enc []byte) {
		p, _, ok := packFrag(nil, enc, nil)
		if !ok {
			return
		}
		if p[0] != packedMark {
			t.Fatalf("packed form %q lacks its mark", p)
		}
		if u := unpackFrag(nil, p); !bytes.Equal(u, enc) {
			t.Fatalf("%q packs to %q, which unpacks to %q", enc, p, u)
		}
	})
}

// BenchmarkWriteFrags measures streaming a lockfile of 10,000 entries,
// packed and as encoded, to a writer that discards it.
func BenchmarkWriteFrags(b *testing.B) {
	var packed, plain [][]byte
	for i := range 10000 {
		enc := appendEntry(nil, addrs.MustParse(fmt.Sprintf("image.img[%d]", i)), entryN(i))
		p, _, _ := packFrag(nil, enc, nil)
		packed, plain = append(packed, p), append(plain, enc)
	}
	chunk := make([]byte, 0, writeChunk)
	for name, frags := range map[string][][]byte{"packed": packed, "plain": plain} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(encodeFrags(nil, plain))))
			for b.Loop() {
				if err := writeFrags(io.Discard, chunk, frags); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A value longer than its one-byte length can say leaves the entry as
// encoded.
func TestPackFragLongValue(t *testing.T) {
	for _, n := range []int{maxPackedValue - 2, maxPackedValue - 1, maxPackedValue} {
		e := entryN(1)
		e.Inputs.Prompt = strings.Repeat("p", n) // quoted: n+2 bytes
		enc := appendEntry(nil, addrs.MustParse("image.a"), e)
		p, _, ok := packFrag(nil, enc, nil)
		if want := n+2 <= maxPackedValue; ok != want {
			t.Errorf("prompt of %d bytes: packed %v, want %v", n, ok, want)
		}
		if ok && !bytes.Equal(unpackFrag(nil, p), enc) {
			t.Errorf("prompt of %d bytes: does not unpack", n)
		}
	}
}
