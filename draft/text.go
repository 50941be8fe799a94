package draft

import (
	"image"
	"image/color"
	"image/draw"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/image/font"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// typeset lays text out glyph by glyph in one face of the built-in Go font,
// deciding for each rune what it shows:
//   - its own glyph;
//   - a better glyph of the font for two runes the Go font draws for code:
//     '-' as the soft hyphen's bar (the font's hyphen is as wide as a minus),
//     '·' lowered to the middle of the x-height (the font's sits near its top);
//   - nothing for invisible format and combining characters it lacks;
//   - for anything else it lacks (CJK, emoji: the Go fonts cover Latin,
//     Greek and Cyrillic), a box that shows the code point in hex, two rows
//     of digits, as browsers do for a missing glyph.
//
// A typeset is used by one goroutine; its faces come from and go back to
// the Renderer's pools.
type typeset struct {
	font *sfnt.Font
	buf  sfnt.Buffer
	face font.Face
	hex  font.Face // the digits in boxes; nil when too small to read
	size int

	dotShift fixed.Int26_6 // how far '·' is drawn below where the font puts it
	box      boxMetrics
}

// boxMetrics is the geometry of a code-point box, in pixels.
type boxMetrics struct {
	digitW, digitH int // a hex digit's advance and cap height
	rowGap         int
	pad, stroke    int
	top, bottom    int // above and below the baseline
	side           int // space on each side of the box
}

// minHexSize is the smallest size, in pixels, at which a box's digits are
// drawn; smaller boxes are drawn empty.
const minHexSize = 7

// typeset returns a typeset of the regular or bold font at size; call
// release when done with it.
func (r *Renderer) typeset(bold bool, size int) *typeset {
	f := r.regular
	if bold {
		f = r.bold
	}
	t := &typeset{font: f, face: r.face(bold, size), size: size}
	m := t.face.Metrics()
	if b, _, ok := t.face.GlyphBounds('·'); ok {
		t.dotShift = -m.XHeight/2 - (b.Min.Y+b.Max.Y)/2
	}
	if hexSize := hexSize(size); hexSize >= minHexSize {
		t.hex = r.face(true, hexSize)
	}
	t.box = boxMetrics{
		pad:    max(1, size/10),
		stroke: max(1, size/28),
		rowGap: max(1, size/12),
		top:    m.CapHeight.Ceil() + max(1, size/8),
		bottom: max(1, size/8),
		side:   max(1, size/16),
	}
	if t.hex != nil {
		for _, d := range "0123456789ABCDEF" {
			adv, _ := t.hex.GlyphAdvance(d)
			t.box.digitW = max(t.box.digitW, adv.Ceil())
		}
		t.box.digitH = t.hex.Metrics().CapHeight.Ceil()
	} else {
		t.box.digitW = max(1, size/4)
	}
	return t
}

// hexSize is the size of the digits in the boxes of a face of size.
func hexSize(size int) int { return size * 2 / 5 }

func (r *Renderer) releaseTypeset(bold bool, t *typeset) {
	r.release(bold, t.size, t.face)
	if t.hex != nil {
		r.release(true, hexSize(t.size), t.hex)
	}
}

// glyph says how rune c is shown: the font's glyph g (ok), or a box (box),
// or nothing.
func (t *typeset) glyph(c rune) (g rune, ok, box bool) {
	switch c {
	case '-':
		return '\u00ad', true, false
	case '\u00ad': // a soft hyphen in the text is a line-break hint: invisible
		return 0, false, false
	}
	if c >= ' ' && c <= '~' { // the Go fonts have every printable ASCII glyph
		return c, true, false
	}
	if i, err := t.font.GlyphIndex(&t.buf, c); err == nil && i != 0 {
		return c, true, false
	}
	if invisible(c) {
		return 0, false, false
	}
	return 0, false, true
}

// invisible reports whether c shows nothing where a font lacks it: format
// characters (zero-width joiners, variation selectors of emoji), controls
// and combining marks.
func invisible(c rune) bool {
	return unicode.In(c, unicode.Cf, unicode.Cc, unicode.Mn, unicode.Me, unicode.Variation_Selector)
}

// hexDigits is the code point of c as a box shows it: four to six upper
// case hex digits.
func hexDigits(c rune) string {
	s := strings.ToUpper(strconv.FormatInt(int64(c), 16))
	if len(s) < 4 {
		s = strings.Repeat("0", 4-len(s)) + s
	}
	return s
}

// boxWidth is the width of c's box, without the space beside it.
func (t *typeset) boxWidth(c rune) int {
	cols := (len(hexDigits(c)) + 1) / 2
	return cols*t.box.digitW + 2*t.box.pad + 2*t.box.stroke
}

// walk lays s out from x and calls fn with each rune shown, its glyph (or
// box) and where it starts; it returns the end of the text.
func (t *typeset) walk(s string, x fixed.Int26_6, fn func(c, g rune, box bool, at fixed.Int26_6)) fixed.Int26_6 {
	prev := rune(-1)
	for _, c := range s {
		g, ok, box := t.glyph(c)
		switch {
		case ok:
			if prev >= 0 {
				x += t.face.Kern(prev, g)
			}
			if fn != nil {
				fn(c, g, false, x)
			}
			adv, _ := t.face.GlyphAdvance(g)
			x += adv
			prev = g
		case box:
			x += fixed.I(t.box.side)
			if fn != nil {
				fn(c, 0, true, x)
			}
			x += fixed.I(t.boxWidth(c) + t.box.side)
			prev = -1
		}
	}
	return x
}

// measure is the advance of s in whole pixels.
func (t *typeset) measure(s string) int { return t.walk(s, 0, nil).Ceil() }

// draw draws s with its baseline at y, starting at x.
func (t *typeset) draw(dst *image.RGBA, s string, x, y int, c color.NRGBA) {
	src := image.NewUniform(c)
	base := fixed.I(y)
	t.walk(s, fixed.I(x), func(r, g rune, box bool, at fixed.Int26_6) {
		if box {
			t.drawBox(dst, r, at.Round(), y, c)
			return
		}
		dot := fixed.Point26_6{X: at, Y: base}
		if r == '·' {
			dot.Y += t.dotShift
		}
		dr, mask, maskp, _, ok := t.face.Glyph(dot, g)
		if ok {
			draw.DrawMask(dst, dr, src, image.Point{}, mask, maskp, draw.Over)
		}
	})
}

// drawBox draws the box of c with its left edge at x, on the baseline y: a
// thin outline and the code point's digits in two rows.
func (t *typeset) drawBox(dst *image.RGBA, c rune, x, y int, col color.NRGBA) {
	b := t.box
	w := t.boxWidth(c)
	outer := image.Rect(x, y-b.top, x+w, y+b.bottom)
	line := color.RGBA{col.R, col.G, col.B, uint8(int(col.A) * 3 / 4)}
	for _, r := range []image.Rectangle{
		image.Rect(outer.Min.X, outer.Min.Y, outer.Max.X, outer.Min.Y+b.stroke),
		image.Rect(outer.Min.X, outer.Max.Y-b.stroke, outer.Max.X, outer.Max.Y),
		image.Rect(outer.Min.X, outer.Min.Y+b.stroke, outer.Min.X+b.stroke, outer.Max.Y-b.stroke),
		image.Rect(outer.Max.X-b.stroke, outer.Min.Y+b.stroke, outer.Max.X, outer.Max.Y-b.stroke),
	} {
		blend(dst, r, line)
	}
	if t.hex == nil {
		return
	}
	digits := hexDigits(c)
	half := (len(digits) + 1) / 2
	rows := []string{digits[:half], digits[half:]}
	textH := 2*b.digitH + b.rowGap
	top := outer.Min.Y + (outer.Dy()-textH)/2
	src := image.NewUniform(col)
	for i, row := range rows {
		// Each digit is centred in a cell of the widest digit's advance.
		baseline := top + b.digitH + i*(b.digitH+b.rowGap)
		x0 := x + (w-len(row)*b.digitW)/2
		for j, d := range row {
			adv, _ := t.hex.GlyphAdvance(d)
			dr := font.Drawer{Dst: dst, Src: src, Face: t.hex,
				Dot: fixed.P(x0+j*b.digitW, baseline).Add(fixed.Point26_6{X: (fixed.I(b.digitW) - adv) / 2})}
			dr.DrawString(string(d))
		}
	}
}
