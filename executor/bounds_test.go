package executor

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pixform/pixform/media"
	"github.com/pixform/pixform/state"
)

// bombPNG is a small PNG whose header declares w×h 8-bit grey pixels: its
// data holds only a few zero rows, but decoding it would allocate w×h bytes
// before finding that out.
func bombPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&out, binary.BigEndian, uint32(len(data)))
		c := crc32.NewIEEE()
		io.WriteString(c, typ)
		c.Write(data)
		out.WriteString(typ)
		out.Write(data)
		binary.Write(&out, binary.BigEndian, c.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 8, 0 // 8-bit greyscale
	chunk("IHDR", ihdr)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(make([]byte, 4*(w+1)))
	zw.Close()
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return out.Bytes()
}

// boundedProvider states bounds and renders nothing.
type boundedProvider struct{ b ImageBounds }

func (boundedProvider) Name() string                                     { return "bounded" }
func (boundedProvider) Render(context.Context, Request, io.Writer) error { return nil }
func (p boundedProvider) ImageBounds() ImageBounds                       { return p.b }

type plainProvider struct{}

func (plainProvider) Name() string                                     { return "plain" }
func (plainProvider) Render(context.Context, Request, io.Writer) error { return nil }

// TestFinishResponseBounds: an answer outside the provider's bounds (too
// many pixels, too small, wrong aspect ratio) is a transient bad body, and
// a bomb is refused from its header, before its pixels are decoded.
func TestFinishResponseBounds(t *testing.T) {
	vendor := boundedProvider{ImageBounds{MaxPixels: 2048 * 2048, MinSide: 32, AspectTolerance: 0.03}}
	tests := map[string]struct {
		body     []byte
		ratio    string
		provider Provider
		wantIn   string // empty: accepted
	}{
		"16:9 accepted":             {body: pngOf(t, 114, 64, 1), ratio: "16:9", provider: vendor},
		"1:1 accepted":              {body: pngOf(t, 64, 64, 1), ratio: "1:1", provider: vendor},
		"9:16 jpeg accepted":        {body: jpegOf(t, 36, 64), ratio: "9:16", provider: vendor},
		"2% off accepted":           {body: pngOf(t, 102, 100, 1), ratio: "1:1", provider: vendor},
		"1x1 refused":               {body: pngOf(t, 1, 1, 1), ratio: "1:1", provider: vendor, wantIn: "smaller than the 32 px"},
		"100x300 for 16:9 refused":  {body: pngOf(t, 100, 300, 1), ratio: "16:9", provider: vendor, wantIn: "not at the aspect ratio 16:9"},
		"4% off refused":            {body: pngOf(t, 104, 100, 1), ratio: "1:1", provider: vendor, wantIn: "not at the aspect ratio 1:1"},
		"portrait for landscape":    {body: pngOf(t, 64, 114, 1), ratio: "16:9", provider: vendor, wantIn: "aspect ratio"},
		"bomb refused":              {body: bombPNG(t, 30000, 30000), ratio: "1:1", provider: vendor, wantIn: "30000×30000 pixels, more than the 4194304 accepted"},
		"bomb refused by default":   {body: bombPNG(t, 30000, 30000), ratio: "1:1", provider: plainProvider{}, wantIn: "more than the 16777216 accepted"},
		"10000 square over default": {body: bombPNG(t, 10000, 10000), ratio: "1:1", provider: plainProvider{}, wantIn: "its pixels were not decoded"},
		"unbounded provider small":  {body: pngOf(t, 8, 6, 1), ratio: "1:1", provider: plainProvider{}},
		"raised cap still capped":   {body: bombPNG(t, 30000, 30000), ratio: "1:1", provider: boundedProvider{ImageBounds{MaxPixels: 1 << 40}}, wantIn: "more than the 268435456 accepted"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			target := filepath.Join(dir, "a.png")
			tmp, err := state.CreateTemp(target)
			if err != nil {
				t.Fatal(err)
			}
			d := newDigestWriter()
			tmp.Write(tc.body)
			d.Write(tc.body)
			req := Request{Inputs: state.Inputs{AspectRatio: tc.ratio}, MediaType: media.PNG}
			out, err := finishResponse(tmp, state.AbortTemp, target, req, tc.provider, d, func() string { return "the test answer" })
			if tc.wantIn == "" {
				if err != nil {
					t.Fatalf("finishResponse: %v", err)
				}
				state.AbortTemp(out.tmp)
				return
			}
			var pe *Error
			if !errors.As(err, &pe) || pe.Class != Transient {
				t.Fatalf("finishResponse = %v, want a transient *Error", err)
			}
			if !strings.Contains(err.Error(), tc.wantIn) || !strings.Contains(err.Error(), "the test answer is refused") {
				t.Errorf("error %q lacks %q", err, tc.wantIn)
			}
			noTempFiles(t, dir)
		})
	}
}

// TestFinishCachedCopyCap: a cached copy is held to the hard limit only,
// so that a raised max_image_pixels does not make its own cache useless.
func TestFinishCachedCopyCap(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "a.png")
	tmp, err := state.CreateTemp(target)
	if err != nil {
		t.Fatal(err)
	}
	body := bombPNG(t, 20000, 20000)
	d := newDigestWriter()
	tmp.Write(body)
	d.Write(body)
	_, err = finish(tmp, state.AbortTemp, target, media.PNG, d, "the cached copy")
	if err == nil || !strings.Contains(err.Error(), "more than the 268435456 accepted") {
		t.Errorf("finish = %v, want the hard limit", err)
	}
	noTempFiles(t, dir)
}

func TestBoundsCheckWithoutRatio(t *testing.T) {
	b := ImageBounds{MaxPixels: 100, MinSide: 2, AspectTolerance: 0.03}
	for _, ar := range []string{"", "x", "0:1", "1:", "-1:2"} {
		if err := b.check(image.Config{Width: 10, Height: 2}, ar); err != nil {
			t.Errorf("check(%q) = %v, want the ratio skipped", ar, err)
		}
	}
}
