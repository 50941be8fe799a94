package imaging

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"github.com/pixform/pixform/media"
)

// gradient is a w×h opaque image with a colour per position.
func gradient(w, h int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.SetNRGBA(x, y, color.NRGBA{uint8(x * 255 / max(1, w-1)), uint8(y * 255 / max(1, h-1)), 128, 255})
		}
	}
	return m
}

func TestResize(t *testing.T) {
	tests := map[string]struct {
		sw, sh, w, h int
		fit          string
		ww, wh       int
		err          string
	}{
		"width only keeps ratio":  {sw: 1024, sh: 576, w: 640, ww: 640, wh: 360},
		"height only keeps ratio": {sw: 1024, sh: 576, h: 288, ww: 512, wh: 288},
		"width only, fit ignored": {sw: 1000, sh: 500, w: 300, fit: Cover, ww: 300, wh: 150},
		"rounding":                {sw: 1000, sh: 333, w: 100, ww: 100, wh: 33},
		"at least one pixel":      {sw: 1000, sh: 2, w: 10, ww: 10, wh: 1},
		"contain default, wide":   {sw: 1600, sh: 900, w: 800, h: 800, ww: 800, wh: 450},
		"contain, tall":           {sw: 900, sh: 1600, w: 800, h: 800, fit: Contain, ww: 450, wh: 800},
		"contain upscales":        {sw: 100, sh: 50, w: 400, h: 400, ww: 400, wh: 200},
		"cover is exact":          {sw: 1600, sh: 900, w: 800, h: 800, fit: Cover, ww: 800, wh: 800},
		"fill stretches":          {sw: 1600, sh: 900, w: 300, h: 700, fit: Fill, ww: 300, wh: 700},
		"same size":               {sw: 64, sh: 64, w: 64, h: 64, ww: 64, wh: 64},
		"both zero":               {sw: 10, sh: 10, err: "give a width, a height or both"},
		"negative":                {sw: 10, sh: 10, w: -1, h: 5, err: "must not be negative"},
		"unknown fit":             {sw: 10, sh: 10, w: 5, h: 5, fit: "stretch", err: `unknown fit "stretch": use contain, cover or fill`},
		"too large":               {sw: 10, sh: 10, w: 9000, h: 9000, fit: Fill, err: "more than 67108864 pixels"},
		"too large from one side": {sw: 1, sh: 1000, w: 9000, err: "more than"},
		"contain into a thin box": {sw: 100, sh: 100, w: 1, h: 1000, ww: 1, wh: 1},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Resize(gradient(tt.sw, tt.sh), tt.w, tt.h, tt.fit)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Resize = %v, want an error with %q", err, tt.err)
				}
				if !strings.Contains(tt.err, "fit") && !errors.Is(err, ErrSize) {
					t.Errorf("error %v does not wrap ErrSize", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b := got.Bounds(); b != image.Rect(0, 0, tt.ww, tt.wh) {
				t.Errorf("bounds %v, want %dx%d at 0,0", b, tt.ww, tt.wh)
			}
		})
	}
}

// TestResizeContent: cover crops around the centre; a sub-image source is
// read from its own bounds.
func TestResizeContent(t *testing.T) {
	// A wide image: red left third, green middle, blue right third.
	src := image.NewNRGBA(image.Rect(0, 0, 300, 100))
	for y := range 100 {
		for x := range 300 {
			c := color.NRGBA{255, 0, 0, 255}
			if x >= 100 {
				c = color.NRGBA{0, 255, 0, 255}
			}
			if x >= 200 {
				c = color.NRGBA{0, 0, 255, 255}
			}
			src.SetNRGBA(x, y, c)
		}
	}
	got, err := Resize(src, 50, 50, Cover)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []int{0, 25, 49} {
		if r, g, b, _ := got.At(x, 25).RGBA(); r > 0x1000 || b > 0x1000 || g < 0xf000 {
			t.Errorf("cover pixel %d = %v, want the green centre", x, got.At(x, 25))
		}
	}
	sub := src.SubImage(image.Rect(200, 0, 300, 100))
	got, err = Resize(sub, 10, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, b, _ := got.At(5, 5).RGBA(); b < 0xf000 {
		t.Errorf("sub-image resize = %v, want blue", got.At(5, 5))
	}
}

func TestCrop(t *testing.T) {
	tests := map[string]struct {
		sw, sh int
		ratio  string
		ww, wh int
		err    string
	}{
		"16:9 of a square":   {sw: 1024, sh: 1024, ratio: "16:9", ww: 1024, wh: 576},
		"1:1 of wide":        {sw: 1024, sh: 576, ratio: "1:1", ww: 576, wh: 576},
		"9:16 of wide":       {sw: 1600, sh: 900, ratio: "9:16", ww: 506, wh: 900},
		"same ratio":         {sw: 300, sh: 200, ratio: "3:2", ww: 300, wh: 200},
		"bad ratio":          {sw: 10, sh: 10, ratio: "16x9", err: `aspect ratio "16x9" is not W:H`},
		"zero":               {sw: 10, sh: 10, ratio: "0:1", err: "positive"},
		"negative":           {sw: 10, sh: 10, ratio: "-1:1", err: "positive"},
		"huge terms":         {sw: 10, sh: 10, ratio: "100000:1", err: "positive"},
		"extreme, one pixel": {sw: 10, sh: 10, ratio: "10000:1", ww: 10, wh: 1},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			src := gradient(tt.sw, tt.sh)
			got, err := Crop(src, tt.ratio)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Crop = %v, want an error with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b := got.Bounds(); b != image.Rect(0, 0, tt.ww, tt.wh) {
				t.Fatalf("bounds %v, want %dx%d at 0,0", b, tt.ww, tt.wh)
			}
			// Centred: the crop's top-left pixel is the source's at the offset.
			ox, oy := (tt.sw-tt.ww)/2, (tt.sh-tt.wh)/2
			if !sameColor(got.At(0, 0), src.At(ox, oy)) || !sameColor(got.At(tt.ww-1, tt.wh-1), src.At(ox+tt.ww-1, oy+tt.wh-1)) {
				t.Errorf("crop is not the centre of the source")
			}
		})
	}
}

func sameColor(a, b color.Color) bool {
	r1, g1, b1, a1 := a.RGBA()
	r2, g2, b2, a2 := b.RGBA()
	return r1 == r2 && g1 == g2 && b1 == b2 && a1 == a2
}

// halfTransparent is a w×h image: opaque red on the left half, fully
// transparent (with a hidden green) on the right.
func halfTransparent(w, h int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.NRGBA{255, 0, 0, 255}
			if x >= w/2 {
				c = color.NRGBA{0, 255, 0, 0}
			}
			m.SetNRGBA(x, y, c)
		}
	}
	return m
}

func TestEncode(t *testing.T) {
	src := halfTransparent(64, 32)
	t.Run("png keeps alpha through a resize", func(t *testing.T) {
		small, err := Resize(src, 32, 0, "")
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := Encode(&b, small, media.PNG, 0); err != nil {
			t.Fatal(err)
		}
		if media.Sniff(b.Bytes()) != media.PNG {
			t.Fatal("not a PNG")
		}
		m, err := png.Decode(&b)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, _, a := m.At(2, 8).RGBA(); a != 0xffff {
			t.Errorf("left alpha %d, want opaque", a)
		}
		if _, _, _, a := m.At(30, 8).RGBA(); a != 0 {
			t.Errorf("right alpha %d, want transparent", a)
		}
		// Premultiplied scaling: the hidden green does not bleed into the
		// edge's red.
		if c := color.NRGBAModel.Convert(m.At(15, 8)).(color.NRGBA); c.A > 0 && c.G > 40 {
			t.Errorf("edge pixel %v shows the transparent half's hidden green", c)
		}
	})
	t.Run("jpeg flattens onto white", func(t *testing.T) {
		var b bytes.Buffer
		if err := Encode(&b, src, media.JPEG, 95); err != nil {
			t.Fatal(err)
		}
		m, err := jpeg.Decode(&b)
		if err != nil {
			t.Fatal(err)
		}
		if r, g, bl, _ := m.At(56, 16).RGBA(); r < 0xf000 || g < 0xf000 || bl < 0xf000 {
			t.Errorf("transparent half = %v, want white", m.At(56, 16))
		}
		if r, g, _, _ := m.At(8, 16).RGBA(); r < 0xe000 || g > 0x2000 {
			t.Errorf("opaque half = %v, want red", m.At(8, 16))
		}
	})
	t.Run("jpeg quality", func(t *testing.T) {
		img := gradient(256, 256)
		size := func(q int) int {
			var b bytes.Buffer
			if err := Encode(&b, img, media.JPEG, q); err != nil {
				t.Fatal(err)
			}
			return b.Len()
		}
		if lo, def, hi := size(20), size(0), size(100); !(lo < def && def < hi) || def != size(DefaultQuality) {
			t.Errorf("sizes at quality 20, default, 100: %d %d %d", lo, def, hi)
		}
	})
	for name, tt := range map[string]struct {
		mt      string
		quality int
		err     string
	}{
		"quality too high": {media.JPEG, 101, "JPEG quality 101 is out of range: use 1 to 100"},
		"quality negative": {media.JPEG, -5, "out of range"},
		"webp":             {"image/webp", 0, `cannot encode "image/webp"`},
	} {
		t.Run(name, func(t *testing.T) {
			err := Encode(&bytes.Buffer{}, src, tt.mt, tt.quality)
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Encode = %v, want %q", err, tt.err)
			}
		})
	}
}
