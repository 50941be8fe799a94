package draft

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"strconv"
	"strings"

	"golang.org/x/image/draw"

	"github.com/pixform/pixform/edits"
	"github.com/pixform/pixform/executor"
	"github.com/pixform/pixform/media"
)

// MaxEditPixels is the largest source image or mask, in pixels, that Edit
// decodes: that of the executor's default bounds.
const MaxEditPixels = executor.DefaultMaxImagePixels

// Edit writes a placeholder of the edit req to w, as a PNG in a single
// Write, deterministically and offline; each operation is recognisable:
//
//   - remove-background: the source cut out to an ellipse, real alpha
//     around it;
//   - upscale: the source at twice its width and height;
//   - generative-fill: the source with the mask's white region (luminance
//     above half) tinted by a colour from the prompt;
//   - ai-background: a draft gradient from the prompt and seed, the source
//     drawn over it by its alpha: opaque;
//   - transparent: the prompt set in a disc on a transparent background, at
//     the aspect ratio's draft size.
//
// Each carries a small "DRAFT" label. A request that edits.Request.Check
// refuses, or a source or mask beyond MaxEditPixels or that does not
// decode, is an Invalid *executor.Error.
func (r *Renderer) Edit(ctx context.Context, req edits.Request, w io.Writer) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("draft %s of %s: %w", req.Op, req.Addr, err)
	}
	if r.fontErr != nil {
		return &executor.Error{Class: executor.Fatal, Msg: fmt.Sprintf("draft renderer: parse the built-in font: %v", r.fontErr), Err: r.fontErr}
	}
	invalid := func(err error) error {
		return &executor.Error{Class: executor.Invalid, Msg: fmt.Sprintf("draft %s of %s: %v", req.Op, req.Addr, err), Err: err}
	}
	if err := req.Check(); err != nil {
		return invalid(err)
	}
	var src, mask *image.RGBA
	var err error
	if len(req.Image) > 0 {
		if src, err = decodeRGBA(req.Image, "source image"); err != nil {
			return invalid(err)
		}
	}
	if len(req.Mask) > 0 {
		if mask, err = decodeRGBA(req.Mask, "mask"); err != nil {
			return invalid(err)
		}
	}
	var out *image.RGBA
	switch req.Op {
	case edits.RemoveBackground:
		out = cutOut(src)
		r.label(out, "DRAFT cut-out", out.Bounds().Dx()/2, out.Bounds().Dy()*3/4, true)
	case edits.Upscale:
		b := src.Bounds()
		out = image.NewRGBA(image.Rect(0, 0, 2*b.Dx(), 2*b.Dy()))
		draw.ApproxBiLinear.Scale(out, out.Bounds(), src, b, draw.Src, nil)
		r.label(out, "DRAFT upscale 2×", 0, 0, false)
	case edits.GenerativeFill:
		out = fillMasked(src, mask, hashRGBA("fill", req.Prompt))
		r.label(out, "DRAFT fill: "+req.Prompt, 0, 0, false)
	case edits.AIBackground:
		out = behind(src, req.Prompt, req.Seed)
		r.label(out, "DRAFT background: "+req.Prompt, 0, 0, false)
	case edits.Transparent:
		width, height, err := Size(req.AspectRatio)
		if err != nil {
			return invalid(err)
		}
		out = r.transparent(req, width, height)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("draft %s of %s: %w", req.Op, req.Addr, err)
	}
	buf := r.bufs.Get().(*bytes.Buffer)
	defer r.bufs.Put(buf)
	buf.Reset()
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(buf, out); err != nil {
		return fmt.Errorf("draft %s of %s: encode: %w", req.Op, req.Addr, err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("draft %s of %s: write: %w", req.Op, req.Addr, err)
	}
	return nil
}

// decodeRGBA decodes a PNG or JPEG within MaxEditPixels into premultiplied
// RGBA at (0, 0).
func decodeRGBA(data []byte, what string) (*image.RGBA, error) {
	var cfg image.Config
	var decode func(io.Reader) (image.Image, error)
	var err error
	switch media.Sniff(data) {
	case media.PNG:
		cfg, err = png.DecodeConfig(bytes.NewReader(data))
		decode = png.Decode
	case media.JPEG:
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(data))
		decode = jpeg.Decode
	default:
		return nil, fmt.Errorf("the %s is neither a PNG nor a JPEG", what)
	}
	if err != nil {
		return nil, fmt.Errorf("the %s does not decode: %v", what, err)
	}
	if cfg.Width < 1 || cfg.Height < 1 || int64(cfg.Width)*int64(cfg.Height) > MaxEditPixels {
		return nil, fmt.Errorf("the %s is %d×%d, outside 1 to %d pixels", what, cfg.Width, cfg.Height, MaxEditPixels)
	}
	m, err := decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("the %s does not decode: %v", what, err)
	}
	b := m.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Bounds(), m, b.Min, draw.Src)
	return out, nil
}

// hashRGBA is an opaque, saturated colour hashed from parts.
func hashRGBA(parts ...string) color.RGBA { return hsl(float64(fnvOf(parts...)%360), 0.65, 0.5) }

// cutOut is src inside the ellipse inscribed in 90% of it, with an edge a
// few pixels soft, and transparent outside.
func cutOut(src *image.RGBA) *image.RGBA {
	b := src.Bounds()
	out := image.NewRGBA(b)
	cx, cy := float64(b.Dx())/2, float64(b.Dy())/2
	rx, ry := cx*0.9, cy*0.9
	soft := 2 / math.Min(rx, ry) // about two pixels of edge
	for y := range b.Dy() {
		for x := range b.Dx() {
			dx, dy := (float64(x)+0.5-cx)/rx, (float64(y)+0.5-cy)/ry
			d := math.Sqrt(dx*dx + dy*dy)
			k := math.Max(0, math.Min(1, (1-d)/soft))
			if k == 0 {
				continue
			}
			i := src.PixOffset(x, y)
			for c := range 4 {
				out.Pix[i+c] = uint8(math.Round(float64(src.Pix[i+c]) * k))
			}
		}
	}
	return out
}

// fillMasked tints src where the mask is white (luminance above half).
func fillMasked(src, mask *image.RGBA, tint color.RGBA) *image.RGBA {
	out := image.NewRGBA(src.Bounds())
	copy(out.Pix, src.Pix)
	for y := range src.Bounds().Dy() {
		for x := range src.Bounds().Dx() {
			if g := color.GrayModel.Convert(mask.At(x, y)).(color.Gray); g.Y <= 127 {
				continue
			}
			i := out.PixOffset(x, y)
			out.Pix[i+0] = uint8((int(tint.R)*3 + int(out.Pix[i+0])) / 4)
			out.Pix[i+1] = uint8((int(tint.G)*3 + int(out.Pix[i+1])) / 4)
			out.Pix[i+2] = uint8((int(tint.B)*3 + int(out.Pix[i+2])) / 4)
			out.Pix[i+3] = 255
		}
	}
	return out
}

// behind draws src over a draft gradient from the prompt and seed.
func behind(src *image.RGBA, prompt string, seed int64) *image.RGBA {
	out := image.NewRGBA(src.Bounds())
	s := strconv.FormatInt(seed, 10)
	background(out, hashRGBA("bg1", prompt, s), hsl(float64(fnvOf("bg2", prompt, s)%360), 0.4, 0.25))
	draw.Draw(out, out.Bounds(), src, image.Point{}, draw.Over)
	return out
}

// fnvOf hashes parts, each ended by a zero byte.
func fnvOf(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

// transparent is the Text to PNG placeholder: a disc of a colour from the
// prompt and seed on a transparent background, the prompt set inside it.
func (r *Renderer) transparent(req edits.Request, width, height int) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, width, height))
	c := hashRGBA("png", req.Prompt, strconv.FormatInt(req.Seed, 10))
	cx, cy := float64(width)/2, float64(height)/2
	rad := float64(min(width, height)) * 0.45
	for y := range height {
		for x := range width {
			dx, dy := float64(x)+0.5-cx, float64(y)+0.5-cy
			k := math.Max(0, math.Min(1, (rad-math.Sqrt(dx*dx+dy*dy))/1.5))
			if k == 0 {
				continue
			}
			i := out.PixOffset(x, y)
			out.Pix[i+0] = uint8(math.Round(float64(c.R) * k))
			out.Pix[i+1] = uint8(math.Round(float64(c.G) * k))
			out.Pix[i+2] = uint8(math.Round(float64(c.B) * k))
			out.Pix[i+3] = uint8(math.Round(255 * k))
		}
	}
	// The prompt, as large as fits the disc's inscribed square.
	side := int(rad * math.Sqrt2 * 0.9)
	prompt := strings.Join(strings.Fields(req.Prompt), " ")
	mainSize := max(12, side/14)
	t, lines, lineH := r.layoutPrompt(prompt, side, side, mainSize, side/5)
	fm := t.face.Metrics()
	y0 := (height - len(lines)*lineH) / 2
	for i, line := range lines {
		x := (width - t.measure(line)) / 2
		y := y0 + i*lineH + (lineH+fm.Ascent.Ceil()-fm.Descent.Ceil())/2
		t.draw(out, line, x, y, color.NRGBA{255, 255, 255, 255})
	}
	r.releaseTypeset(false, t)
	r.label(out, "DRAFT", width/2, int(cy-rad*0.8), true)
	return out
}

// label sets text small and bold on a dark panel: at the top left inside a
// margin, or centred on (x, y) when centred is set.
func (r *Renderer) label(img *image.RGBA, text string, x, y int, centred bool) {
	b := img.Bounds()
	short := min(b.Dx(), b.Dy())
	size := max(9, short/24)
	t := r.typeset(true, size)
	defer r.releaseTypeset(true, t)
	pad := max(2, size/3)
	maxW := b.Dx() - 4*pad
	if centred {
		maxW = b.Dx() / 2
	}
	if maxW < size {
		return // too small an image for a label
	}
	text = ellipsize(t, strings.Join(strings.Fields(text), " "), maxW)
	m := t.face.Metrics()
	w, h := t.measure(text), m.Height.Ceil()
	if centred {
		x, y = x-w/2-pad, y-h/2-pad
	} else {
		x, y = pad, pad
	}
	panel := image.Rect(x, y, x+w+2*pad, y+h+2*pad)
	shade(img, panel, 140)
	t.draw(img, text, x+pad, y+pad+m.Ascent.Ceil(), color.NRGBA{255, 255, 255, 230})
}
