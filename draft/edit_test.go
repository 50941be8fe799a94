package draft

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/pixform/pixform/edits"
	"github.com/pixform/pixform/executor"
	"github.com/pixform/pixform/internal/fakeapi"
)

// sourcePNG is a w×h opaque PNG; maskLeft makes it a mask, white on its
// left half.
func sourcePNG(t testing.TB, w, h int, maskLeft bool) []byte {
	t.Helper()
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.NRGBA{uint8(x), uint8(y), 60, 255}
			if maskLeft {
				c = color.NRGBA{0, 0, 0, 255}
				if x < w/2 {
					c = color.NRGBA{255, 255, 255, 255}
				}
			}
			m.SetNRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func alpha(m image.Image, x, y int) uint32 {
	_, _, _, a := m.At(x, y).RGBA()
	return a >> 8
}

func TestEdit(t *testing.T) {
	r := New()
	src, mask := sourcePNG(t, 200, 120, false), sourcePNG(t, 200, 120, true)
	var jpg bytes.Buffer
	jpeg.Encode(&jpg, image.NewRGBA(image.Rect(0, 0, 90, 60)), nil)
	srcImg, _ := png.Decode(bytes.NewReader(src))
	tests := map[string]struct {
		req   edits.Request
		w, h  int
		check func(t *testing.T, m image.Image)
	}{
		"remove-background": {req: edits.Request{Op: edits.RemoveBackground, Image: src, Addr: "image.cut"}, w: 200, h: 120,
			check: func(t *testing.T, m image.Image) {
				if alpha(m, 0, 0) != 0 || alpha(m, 199, 119) != 0 {
					t.Error("corners are not transparent")
				}
				if alpha(m, 100, 40) != 255 {
					t.Error("the centre is not opaque")
				}
			}},
		"upscale":      {req: edits.Request{Op: edits.Upscale, Image: src}, w: 400, h: 240},
		"upscale jpeg": {req: edits.Request{Op: edits.Upscale, Image: jpg.Bytes()}, w: 180, h: 120},
		"generative-fill": {req: edits.Request{Op: edits.GenerativeFill, Image: src, Mask: mask, Prompt: "moss"}, w: 200, h: 120,
			check: func(t *testing.T, m image.Image) {
				if m.At(50, 100) == srcImg.At(50, 100) || sameRGBA(m.At(50, 100), srcImg.At(50, 100)) {
					t.Error("the masked region is not tinted")
				}
				if !sameRGBA(m.At(150, 100), srcImg.At(150, 100)) {
					t.Error("the unmasked region changed")
				}
			}},
		"ai-background": {req: edits.Request{Op: edits.AIBackground, Image: cutSource(t, r, src), Prompt: "marble", Seed: 3}, w: 200, h: 120,
			check: func(t *testing.T, m image.Image) {
				for _, p := range []image.Point{{0, 0}, {199, 119}, {100, 60}} {
					if alpha(m, p.X, p.Y) != 255 {
						t.Errorf("alpha at %v is not opaque", p)
					}
				}
				if sameRGBA(m.At(1, 119), color.Black) {
					t.Error("no background drawn behind the cut-out's transparent corner")
				}
			}},
		"transparent": {req: edits.Request{Op: edits.Transparent, Prompt: "a fox logo", AspectRatio: "16:9"}, w: 1024, h: 576,
			check: func(t *testing.T, m image.Image) {
				if alpha(m, 2, 2) != 0 || alpha(m, 512, 288) != 255 {
					t.Error("want a transparent corner and an opaque centre")
				}
			}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var a, b bytes.Buffer
			if err := r.Edit(context.Background(), tc.req, &a); err != nil {
				t.Fatal(err)
			}
			if err := New().Edit(context.Background(), tc.req, &b); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Error("two renders differ")
			}
			m, err := png.Decode(&a)
			if err != nil {
				t.Fatalf("not a PNG: %v", err)
			}
			if got := m.Bounds().Size(); got != image.Pt(tc.w, tc.h) {
				t.Errorf("size %v, want %dx%d", got, tc.w, tc.h)
			}
			if tc.check != nil {
				tc.check(t, m)
			}
		})
	}
}

// cutSource is src cut out by the draft remover.
func cutSource(t *testing.T, r *Renderer, src []byte) []byte {
	var b bytes.Buffer
	if err := r.Edit(context.Background(), edits.Request{Op: edits.RemoveBackground, Image: src}, &b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func sameRGBA(a, b color.Color) bool {
	r1, g1, b1, a1 := a.RGBA()
	r2, g2, b2, a2 := b.RGBA()
	return r1 == r2 && g1 == g2 && b1 == b2 && a1 == a2
}

// TestEditDiffers: an edit's own fields change its draft.
func TestEditDiffers(t *testing.T) {
	r := New()
	src, mask := sourcePNG(t, 64, 64, false), sourcePNG(t, 64, 64, true)
	cut := cutSource(t, r, src)
	render := func(req edits.Request) []byte {
		var b bytes.Buffer
		if err := r.Edit(context.Background(), req, &b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	for name, pair := range map[string][2]edits.Request{
		"fill prompt":       {{Op: edits.GenerativeFill, Image: src, Mask: mask, Prompt: "a"}, {Op: edits.GenerativeFill, Image: src, Mask: mask, Prompt: "b"}},
		"background seed":   {{Op: edits.AIBackground, Image: cut, Prompt: "a", Seed: 1}, {Op: edits.AIBackground, Image: cut, Prompt: "a", Seed: 2}},
		"transparent seed":  {{Op: edits.Transparent, Prompt: "a", Seed: 1}, {Op: edits.Transparent, Prompt: "a", Seed: 2}},
		"upscale of source": {{Op: edits.Upscale, Image: src}, {Op: edits.Upscale, Image: mask}},
	} {
		if bytes.Equal(render(pair[0]), render(pair[1])) {
			t.Errorf("%s: same draft for different inputs", name)
		}
	}
}

func TestEditInvalid(t *testing.T) {
	r := New()
	src := sourcePNG(t, 64, 64, false)
	for name, req := range map[string]edits.Request{
		"mask of other size": {Op: edits.GenerativeFill, Image: src, Mask: sourcePNG(t, 32, 64, true), Prompt: "p"},
		"no source":          {Op: edits.Upscale},
		"bomb":               {Op: edits.Upscale, Image: fakeapi.BombPNG(30000, 30000)},
		"truncated":          {Op: edits.Upscale, Image: src[:60]},
		"unknown op":         {Op: "ai-resize", Image: src},
	} {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			err := r.Edit(context.Background(), req, &out)
			if executor.ClassOf(err) != executor.Invalid || err == nil {
				t.Fatalf("Edit = %v, want Invalid", err)
			}
			if out.Len() != 0 {
				t.Errorf("%d bytes written", out.Len())
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Edit(ctx, edits.Request{Op: edits.Upscale, Image: src}, &bytes.Buffer{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Edit with a cancelled context = %v", err)
	}
}

// FuzzEdit: any bytes as a source and mask give a PNG or an Invalid error,
// never a panic or an unbounded allocation.
func FuzzEdit(f *testing.F) {
	src := sourcePNG(f, 16, 12, false)
	f.Add(src, sourcePNG(f, 16, 12, true), uint8(2))
	f.Add(src[:40], src, uint8(0))
	f.Add(fakeapi.BombPNG(5000, 5000), src, uint8(1))
	r := New()
	ops := append(edits.Ops(), edits.Transparent)
	f.Fuzz(func(t *testing.T, image, mask []byte, op uint8) {
		req := edits.Request{Op: ops[int(op)%len(ops)], Image: image, Mask: mask, Prompt: "p"}
		var out bytes.Buffer
		err := r.Edit(context.Background(), req, &out)
		if err != nil {
			if executor.ClassOf(err) != executor.Invalid {
				t.Fatalf("Edit = %v, want Invalid", err)
			}
			return
		}
		if _, err := png.DecodeConfig(&out); err != nil {
			t.Fatalf("Edit wrote no PNG: %v", err)
		}
	})
}
