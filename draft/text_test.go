package draft

import (
	"bytes"
	"image"
	"image/color"
	"strings"
	"testing"
)

// ink returns the bounds of what draw painted of s on a black canvas.
func ink(t *testing.T, ts *typeset, s string) (bounds image.Rectangle, img *image.RGBA, baseline int) {
	t.Helper()
	size := ts.size
	img = image.NewRGBA(image.Rect(0, 0, 8*size*(len([]rune(s))+1), 3*size))
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 255
	}
	baseline = 2 * size
	ts.draw(img, s, size/2, baseline, color.NRGBA{255, 255, 255, 255})
	bounds = image.Rectangle{Min: img.Bounds().Max, Max: img.Bounds().Min}
	for y := 0; y < img.Bounds().Dy(); y++ {
		for x := 0; x < img.Bounds().Dx(); x++ {
			if img.Pix[img.PixOffset(x, y)] > 128 {
				bounds = bounds.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return bounds, img, baseline
}

func TestTypesetHyphenAndDot(t *testing.T) {
	r := New()
	ts := r.typeset(false, 100)
	defer r.releaseTypeset(false, ts)
	// The Go font's '-' is as wide as its minus sign (58% of the size);
	// a hyphen between words is a short bar.
	if w := ts.measure("-"); w > 40 {
		t.Errorf("'-' advances %d px at size 100, want a hyphen of at most 40", w)
	}
	if got, want := ts.measure("flux-dev"), ts.measure("fluxdev")+40; got > want {
		t.Errorf("flux-dev is %d px wide, more than %d", got, want)
	}
	// '·' sits at the middle of the x-height, as between words it should.
	b, _, baseline := ink(t, ts, "·")
	mid := baseline - (b.Min.Y+b.Max.Y)/2
	want := ts.face.Metrics().XHeight.Round() / 2
	if mid < want-6 || mid > want+6 {
		t.Errorf("'·' is centred %d px above the baseline, want %d±6 (half the x-height)", mid, want)
	}
}

func TestTypesetMissingGlyphs(t *testing.T) {
	r := New()
	ts := r.typeset(false, 60)
	defer r.releaseTypeset(false, ts)
	for c, want := range map[rune]string{'中': "4E2D", 0x1F600: "1F600", 'A': "0041", 0x10FFFF: "10FFFF"} {
		if got := hexDigits(c); got != want {
			t.Errorf("hexDigits(%U) = %q, want %q", c, got, want)
		}
	}
	for _, tc := range []struct {
		c               rune
		glyph, box, nil bool
	}{
		{c: 'a', glyph: true}, {c: 'é', glyph: true}, {c: 'Ж', glyph: true}, {c: '-', glyph: true},
		{c: '中', box: true}, {c: 0x1F408, box: true}, {c: 0x1F3FD, box: true},
		{c: 0x200D, nil: true}, {c: 0xFE0F, nil: true}, {c: 0x00AD, nil: true},
	} {
		_, glyph, box := ts.glyph(tc.c)
		if glyph != tc.glyph || box != tc.box {
			t.Errorf("%U: glyph %v, box %v; want glyph %v, box %v", tc.c, glyph, box, tc.glyph, tc.box)
		}
	}
	// Two characters the font lacks look different (each shows its code
	// point), not as the same empty box.
	_, a, _ := ink(t, ts, "中")
	_, b, _ := ink(t, ts, "丁")
	if bytes.Equal(a.Pix, b.Pix) {
		t.Error("中 and 丁 render alike")
	}
	// Joiners and variation selectors take no room.
	if got, want := ts.measure("🐈\u200d⬛\ufe0f"), ts.measure("🐈⬛"); got != want {
		t.Errorf("a ZWJ sequence measures %d px, want %d as its visible parts", got, want)
	}
}

func TestLayoutPromptScales(t *testing.T) {
	r := New()
	const width, height, minSize, maxSize = 900, 700, 51, 170
	short := "flat minimal icon of a small house"
	ts, lines, _ := r.layoutPrompt(short, width, height, minSize, maxSize)
	if ts.size < 100 {
		t.Errorf("a short prompt is set at %d px; want it large (≥ 100) so that it reads on a small icon", ts.size)
	}
	if got := strings.Join(lines, " "); got != short {
		t.Errorf("short prompt laid out as %q", got)
	}
	for _, l := range lines {
		if w := ts.measure(l); w > width {
			t.Errorf("line %q is %d px, wider than %d", l, w, width)
		}
	}
	r.releaseTypeset(false, ts)

	long := strings.Repeat("an extraordinarily detailed cathedral interior ", 30)
	ts, lines, lineH := r.layoutPrompt(long, width, height, minSize, maxSize)
	defer r.releaseTypeset(false, ts)
	if ts.size != minSize {
		t.Errorf("a long prompt is set at %d px, want the minimum %d", ts.size, minSize)
	}
	if !strings.HasSuffix(lines[len(lines)-1], "…") {
		t.Errorf("a long prompt is not cut with an ellipsis: %q", lines[len(lines)-1])
	}
	if len(lines)*lineH > height {
		t.Errorf("%d lines of %d px overflow %d px", len(lines), lineH, height)
	}
}

func TestDiv255(t *testing.T) {
	for v := uint32(0); v <= 255*255; v++ {
		if got := div255(v); uint32(got) != v/255 {
			t.Fatalf("div255(%d) = %d, want %d", v, got, v/255)
		}
	}
}
