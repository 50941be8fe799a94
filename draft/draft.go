package draft

import (
	"bytes"
	"compress/zlib"
	"context"
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/executor"
	"github.com/pixform/pixform/media"
	"github.com/pixform/pixform/providers"
)

// LongSide is the size in pixels of a placeholder's longer side.
const LongSide = 1024

// jpegQuality is the quality of JPEG placeholders.
const jpegQuality = 85

// Renderer renders placeholders. It parses its fonts once and keeps a pool
// of font faces per size; it is safe for concurrent use.
type Renderer struct {
	regular *opentype.Font
	bold    *opentype.Font
	fontErr error

	mu    sync.Mutex
	faces map[faceKey]*sync.Pool // of font.Face, which is not safe for concurrent use

	bufs    sync.Pool // of *bytes.Buffer, for encoding
	scratch sync.Pool // of *pngScratch
	pixels  sync.Pool // of *[]byte, the canvas
}

// pngScratch is reusable state of encodePNG.
type pngScratch struct {
	idat           bytes.Buffer
	zw             *zlib.Writer
	cur, prev, out []byte
}

var _ executor.Provider = (*Renderer)(nil)

type faceKey struct {
	bold bool
	size int
}

// New returns a Renderer, its fonts parsed.
func New() *Renderer {
	r := &Renderer{faces: map[faceKey]*sync.Pool{}}
	r.regular, r.fontErr = opentype.Parse(goregular.TTF)
	if r.fontErr == nil {
		r.bold, r.fontErr = opentype.Parse(gobold.TTF)
	}
	r.bufs.New = func() any { return new(bytes.Buffer) }
	return r
}

// Name returns providers.Draft, the provider name the lockfile records.
func (r *Renderer) Name() string { return providers.Draft }

// Size returns the placeholder size for an aspect ratio "W:H": LongSide on
// the longer side, the other rounded to the ratio. Empty means "1:1".
func Size(aspectRatio string) (w, h int, err error) {
	if aspectRatio == "" {
		aspectRatio = "1:1"
	}
	a, b, ok := strings.Cut(aspectRatio, ":")
	x, errX := strconv.Atoi(strings.TrimSpace(a))
	y, errY := strconv.Atoi(strings.TrimSpace(b))
	if !ok || errX != nil || errY != nil || x <= 0 || y <= 0 || x > 100*y || y > 100*x {
		return 0, 0, fmt.Errorf("aspect ratio %q is not of the form W:H with positive whole numbers", aspectRatio)
	}
	if x >= y {
		return LongSide, max(1, int(math.Round(float64(LongSide)*float64(y)/float64(x)))), nil
	}
	return max(1, int(math.Round(float64(LongSide)*float64(x)/float64(y)))), LongSide, nil
}

// Render writes the placeholder for req to w, as a JPEG when req.MediaType
// is "image/jpeg" and a PNG otherwise, in a single Write. A bad aspect ratio
// is an Invalid *executor.Error.
func (r *Renderer) Render(ctx context.Context, req executor.Request, w io.Writer) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("draft render of %s: %w", req.Addr, err)
	}
	if r.fontErr != nil {
		return &executor.Error{Class: executor.Fatal, Msg: fmt.Sprintf("draft renderer: parse the built-in font: %v", r.fontErr), Err: r.fontErr}
	}
	width, height, err := Size(req.AspectRatio)
	if err != nil {
		return &executor.Error{Class: executor.Invalid, Msg: fmt.Sprintf("draft render of %s: %v: use one of 1:1, 3:2, 4:3, 3:4, 16:9, 9:16", req.Addr, err), Err: err}
	}
	pix, _ := r.pixels.Get().(*[]byte)
	if pix == nil {
		pix = new([]byte)
	}
	defer r.pixels.Put(pix)
	img := r.paint(req, width, height, pix)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("draft render of %s: %w", req.Addr, err)
	}
	buf := r.bufs.Get().(*bytes.Buffer)
	defer r.bufs.Put(buf)
	buf.Reset()
	if req.MediaType == media.JPEG {
		err = jpeg.Encode(buf, img, &jpeg.Options{Quality: jpegQuality})
	} else {
		sc, _ := r.scratch.Get().(*pngScratch)
		if sc == nil {
			sc = new(pngScratch)
		}
		err = encodePNG(buf, img, sc)
		r.scratch.Put(sc)
	}
	if err != nil {
		return fmt.Errorf("draft render of %s: encode: %w", req.Addr, err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("draft render of %s: write: %w", req.Addr, err)
	}
	return nil
}

// paint draws the placeholder, in *pix when it is large enough (growing it
// otherwise); background overwrites every pixel, so reuse leaks nothing.
func (r *Renderer) paint(req executor.Request, width, height int, pix *[]byte) *image.RGBA {
	h := fnv.New64a()
	for _, s := range []string{req.Prompt, req.Style, req.AspectRatio, strconv.FormatInt(req.Seed, 10)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	sum := h.Sum64()
	hue1 := float64(sum % 360)
	hue2 := math.Mod(hue1+40+float64((sum>>16)%80), 360)
	c1 := hsl(hue1, 0.50, 0.40)
	c2 := hsl(hue2, 0.45, 0.24)

	if n := 4 * width * height; cap(*pix) < n {
		*pix = make([]byte, n)
	}
	img := &image.RGBA{Pix: (*pix)[:4*width*height], Stride: 4 * width, Rect: image.Rect(0, 0, width, height)}
	background(img, c1, c2)

	short := min(width, height)
	margin := short / 32
	frame(img, margin, color.RGBA{255, 255, 255, 70})

	pad := margin * 3
	// Text scales with the image's area, so portrait and landscape
	// placeholders read alike.
	mainSize := max(14, int(math.Sqrt(float64(width*height))/20))
	smallSize := max(10, mainSize/2)

	// The DRAFT mark, top left inside the frame.
	bold := r.typeset(true, mainSize)
	m := bold.face.Metrics()
	bold.draw(img, "DRAFT", pad, pad+m.Ascent.Ceil(), color.NRGBA{255, 255, 255, 210})
	r.releaseTypeset(true, bold)

	// The footer: address, seed, style, ratio.
	small := r.typeset(false, smallSize)
	sm := small.face.Metrics()
	seed := "seed none"
	if req.Seed != 0 {
		seed = "seed " + strconv.FormatInt(req.Seed, 10)
	}
	ar := req.AspectRatio
	if ar == "" {
		ar = "1:1"
	}
	meta := []string{seed}
	if req.Style != "" {
		meta = append(meta, req.Style)
	}
	meta = append(meta, ar, fmt.Sprintf("%d×%d", width, height))
	const sep = "  ·  "
	footer := []string{strings.Join(meta, sep)}
	if req.Addr != (addrs.Addr{}) {
		addr := req.Addr.String()
		one := addr + sep + footer[0]
		if small.measure(one) <= width-2*pad {
			footer[0] = one
		} else {
			footer = []string{addr, footer[0]}
		}
	}
	smallLine := sm.Height.Ceil() * 5 / 4
	footY := height - pad - (len(footer)-1)*smallLine
	for i, line := range footer {
		small.draw(img, ellipsize(small, line, width-2*pad), pad, footY+i*smallLine, color.NRGBA{255, 255, 255, 225})
	}
	r.releaseTypeset(false, small)

	// The prompt, wrapped and centred in the space between, as large as
	// fits (up to a sixth of the short side) so that a short prompt still
	// reads where the image is shown small, as icons are; a long one is
	// set at mainSize and cut with an ellipsis.
	top := pad + m.Height.Ceil() + pad/2
	bottom := footY - sm.Height.Ceil() - pad/2
	prompt := strings.Join(strings.Fields(req.Prompt), " ")
	if prompt == "" {
		prompt = "(no prompt)"
	}
	t, lines, lineH := r.layoutPrompt(prompt, width-2*pad, bottom-top, mainSize, short/6)
	fm := t.face.Metrics()
	blockH := len(lines) * lineH
	y0 := top + (bottom-top-blockH)/2
	panel := image.Rect(pad/2, y0-lineH/3, width-pad/2, y0+blockH+lineH/3)
	shade(img, panel, 90)
	for i, line := range lines {
		x := (width - t.measure(line)) / 2
		y := y0 + i*lineH + (lineH+fm.Ascent.Ceil()-fm.Descent.Ceil())/2
		t.draw(img, line, x, y, color.NRGBA{255, 255, 255, 255})
	}
	r.releaseTypeset(false, t)
	return img
}

// layoutPrompt sets prompt in lines no wider than width that fit height,
// in the largest size from maxSize down to minSize at which all of it
// fits; at minSize what does not fit is cut with an ellipsis. It returns
// the typeset used (release it with releaseTypeset(false, t)), the lines
// and their height.
func (r *Renderer) layoutPrompt(prompt string, width, height, minSize, maxSize int) (t *typeset, lines []string, lineH int) {
	for size := max(minSize, maxSize); ; size = max(minSize, size*7/8) {
		t = r.typeset(false, size)
		lineH = (t.face.Metrics().Height.Ceil() * 6) / 5
		maxLines := max(1, (height-lineH/2)/lineH)
		var whole bool
		lines, whole = wrap(t, prompt, width, maxLines)
		if whole || size == minSize {
			return t, lines, lineH
		}
		r.releaseTypeset(false, t)
	}
}

// face takes a face of the given size from its pool; give it back with
// release.
func (r *Renderer) face(bold bool, size int) font.Face {
	k := faceKey{bold, size}
	r.mu.Lock()
	p, ok := r.faces[k]
	if !ok {
		f := r.regular
		if bold {
			f = r.bold
		}
		p = &sync.Pool{New: func() any {
			face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: float64(size), DPI: 72, Hinting: font.HintingFull})
			if err != nil {
				// Only a bad size fails, and sizes here are positive.
				panic(fmt.Sprintf("draft: new face of size %d: %v", size, err))
			}
			return face
		}}
		r.faces[k] = p
	}
	r.mu.Unlock()
	return p.Get().(font.Face)
}

func (r *Renderer) release(bold bool, size int, f font.Face) {
	r.mu.Lock()
	p := r.faces[faceKey{bold, size}]
	r.mu.Unlock()
	p.Put(f)
}

// wrap breaks s into at most maxLines lines no wider than width, breaking
// inside words that are too long alone, and ending the last line with an
// ellipsis when text is left over; whole is false then.
func wrap(t *typeset, s string, width, maxLines int) (lines []string, whole bool) {
	var cur string
	words := strings.Fields(s)
	for i := 0; i < len(words); i++ {
		w := words[i]
		try := w
		if cur != "" {
			try = cur + " " + w
		}
		if t.measure(try) <= width {
			cur = try
			continue
		}
		if cur == "" {
			// A single word wider than the line: cut it.
			head, tail := cutToWidth(t, w, width)
			lines = append(lines, head)
			words[i] = tail
			i--
		} else {
			lines = append(lines, cur)
			cur = ""
			i--
		}
		if len(lines) == maxLines {
			last := lines[maxLines-1]
			lines[maxLines-1] = ellipsize(t, last+" …", width)
			return lines, false
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines, true
}

// cutToWidth splits s after as many runes as fit in width (at least one).
func cutToWidth(t *typeset, s string, width int) (head, tail string) {
	runes := []rune(s)
	n := 1
	for n < len(runes) && t.measure(string(runes[:n+1])) <= width {
		n++
	}
	return string(runes[:n]), string(runes[n:])
}

// ellipsize shortens s to fit width, ending it with "…" when cut.
func ellipsize(t *typeset, s string, width int) string {
	if t.measure(s) <= width {
		return s
	}
	runes := []rune(strings.TrimSuffix(s, " …"))
	for len(runes) > 0 {
		s := strings.TrimRight(string(runes), " ") + "…"
		if t.measure(s) <= width {
			return s
		}
		runes = runes[:len(runes)-1]
	}
	return "…"
}

// background fills img with a diagonal gradient from c1 (top left) to c2
// (bottom right) and a faint grid.
func background(img *image.RGBA, c1, c2 color.RGBA) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	span := w + h - 1
	lut := make([]byte, 4*span)
	for t := range span {
		lut[4*t+0] = lerp(c1.R, c2.R, t, span)
		lut[4*t+1] = lerp(c1.G, c2.G, t, span)
		lut[4*t+2] = lerp(c1.B, c2.B, t, span)
		lut[4*t+3] = 255
	}
	cell := max(8, max(w, h)/16)
	for y := range h {
		row := img.Pix[y*img.Stride : y*img.Stride+4*w]
		copy(row, lut[4*y:4*(y+w)])
		if y%cell == 0 {
			for i := 0; i < len(row); i += 4 {
				lighten(row[i:i+3], 18)
			}
			continue
		}
		for x := 0; x < w; x += cell {
			lighten(row[4*x:4*x+3], 18)
		}
	}
}

// lighten blends p towards white by a/255.
func lighten(p []byte, a int) {
	for i := range p {
		p[i] = byte(int(p[i]) + (255-int(p[i]))*a/255)
	}
}

// frame draws a 2 px rectangle inset by m, blended over img.
func frame(img *image.RGBA, m int, c color.RGBA) {
	b := img.Bounds()
	for _, r := range []image.Rectangle{
		image.Rect(m, m, b.Dx()-m, m+2),
		image.Rect(m, b.Dy()-m-2, b.Dx()-m, b.Dy()-m),
		image.Rect(m, m, m+2, b.Dy()-m),
		image.Rect(b.Dx()-m-2, m, b.Dx()-m, b.Dy()-m),
	} {
		blend(img, r, c)
	}
}

// shade darkens r by a/255.
func shade(img *image.RGBA, r image.Rectangle, a int) {
	blend(img, r, color.RGBA{0, 0, 0, uint8(a)})
}

// blend composites the straight-alpha colour c over r of img.
func blend(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(img.Bounds())
	if r.Empty() {
		return
	}
	// Each channel's result depends only on its old value: look it up.
	a := uint32(c.A)
	na := 255 - a
	var lut [3][256]byte
	for ch, cv := range [3]uint8{c.R, c.G, c.B} {
		ca := uint32(cv) * a
		for v := range uint32(256) {
			lut[ch][v] = div255(v*na + ca)
		}
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		i := img.PixOffset(r.Min.X, y)
		row := img.Pix[i : i+4*r.Dx()]
		for j := 0; j+2 < len(row); j += 4 {
			p := row[j : j+3 : j+3]
			p[0] = lut[0][p[0]]
			p[1] = lut[1][p[1]]
			p[2] = lut[2][p[2]]
		}
	}
}

// div255 is v/255 rounded down, for v up to 255*255, without a division.
func div255(v uint32) byte { return byte((v + 1 + (v >> 8)) >> 8) }

func lerp(a, b uint8, t, span int) byte {
	if span <= 1 {
		return a
	}
	return byte((int(a)*(span-1-t) + int(b)*t) / (span - 1))
}

// hsl converts hue (degrees), saturation and lightness to an opaque colour.
func hsl(h, s, l float64) color.RGBA {
	c := (1 - math.Abs(2*l-1)) * s
	hp := h / 60
	x := c * (1 - math.Abs(math.Mod(hp, 2)-1))
	var r, g, b float64
	switch {
	case hp < 1:
		r, g = c, x
	case hp < 2:
		r, g = x, c
	case hp < 3:
		g, b = c, x
	case hp < 4:
		g, b = x, c
	case hp < 5:
		r, b = x, c
	default:
		r, b = c, x
	}
	m := l - c/2
	to := func(v float64) uint8 { return uint8(math.Round((v + m) * 255)) }
	return color.RGBA{to(r), to(g), to(b), 255}
}
