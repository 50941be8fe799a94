package media

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// streamed writes data to a Stream in pieces of the sizes that split
// gives (cycling), and returns its verdict.
func streamed(data []byte, split func() int) (string, int, int, error) {
	var s Stream
	for len(data) > 0 {
		n := min(max(split(), 1), len(data))
		s.Write(data[:n])
		data = data[n:]
	}
	return s.Result()
}

// sameVerdict fails t when Stream and Check disagree on data: both accept
// it with the same type and dimensions, or both refuse it.
func sameVerdict(t *testing.T, what string, data []byte, split func() int) {
	t.Helper()
	wmt, ww, wh, werr := Check(bytes.NewReader(data))
	mt, w, h, err := streamed(data, split)
	switch {
	case (err == nil) != (werr == nil):
		t.Errorf("%s: Stream says %v, Check %v", what, err, werr)
	case err == nil && (mt != wmt || w != ww || h != wh):
		t.Errorf("%s: Stream = %s %dx%d, Check %s %dx%d", what, mt, w, h, wmt, ww, wh)
	}
}

func whole() int    { return 1 << 30 }
func bytewise() int { return 1 }

// Stream gives Check's verdict on every test image whole, cut short at
// every byte, and (PNG and JPEG) with any byte changed, whether written
// at once, a byte at a time or in random pieces.
func TestStreamMatchesCheck(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	random := func() int { return 1 + rnd.IntN(40) }
	for name, data := range testImages(t) {
		for _, split := range []func() int{whole, bytewise, random} {
			sameVerdict(t, name, data, split)
			sameVerdict(t, name+" with a trailer", append(bytes.Clone(data), "trailer"...), split)
		}
		for n := range len(data) {
			sameVerdict(t, name+" cut", data[:n], random)
		}
		for i := range len(data) {
			for _, flip := range []byte{0x10, 0xff, 0x01} {
				d := bytes.Clone(data)
				d[i] ^= flip
				sameVerdict(t, name+" flipped", d, random)
			}
		}
	}
	for name, data := range map[string][]byte{
		"empty":            nil,
		"text":             []byte("<html>not an image</html>"),
		"png signature":    []byte("\x89PNG\r\n\x1a\n"),
		"jpeg soi only":    {0xff, 0xd8},
		"jpeg eoi at once": {0xff, 0xd8, 0xff, 0xd9},
		"short":            {0xff, 0xd8, 0xff},
	} {
		sameVerdict(t, name, data, bytewise)
		if _, _, _, err := streamed(data, whole); err == nil {
			t.Errorf("%s: Stream accepted it", name)
		}
	}
}

func FuzzStream(f *testing.F) {
	for _, data := range testImages(f) {
		f.Add(data, uint64(1))
	}
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		rnd := rand.New(rand.NewPCG(seed, seed))
		sameVerdict(t, "fuzz", data, func() int { return 1 + rnd.IntN(64) })
	})
}

// Checking a body as it streams allocates nothing per byte or chunk.
func TestStreamAllocatesNothing(t *testing.T) {
	for name, data := range testImages(t) {
		allocs := testing.AllocsPerRun(20, func() {
			var s Stream
			s.Write(data)
			if _, _, _, err := s.Result(); err != nil {
				t.Fatal(err)
			}
		})
		if allocs > 0 {
			t.Errorf("%s: %v allocations", name, allocs)
		}
	}
}
