package fakeapi

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/image/draw"

	"github.com/pixform/pixform/edits"
)

// EditCost is what the fake charges for one edit, in credits. The
// vendor's price is unknown; a cost of 1 lets scripts run an account dry.
const EditCost = 1

// MaxEditPixels is the largest image or mask, in pixels, the fake accepts
// in an edit; a larger one answers 400/1100 before it is decoded.
const MaxEditPixels = 4096 * 4096

// unimplemented returns the endpoint paths the vendor lists without their
// fields: the fake answers them 503/1206, "Unsupported service".
func unimplemented() []string {
	return []string{"/image/edits/ai-resize", "/image/edits/retouch", "/image/retouch"}
}

// endpoint is what a request path names: an edits operation, or "" for
// text to image; path is its name in Stats.ByEndpoint.
type endpoint struct {
	op, path      string
	unimplemented bool
}

// endpointOf routes a request path by its ending: each edit endpoint's
// path, the unimplemented ones, and text to image for anything else (as
// the fake always did, so a bare host:port keeps working).
func endpointOf(p string) endpoint {
	for _, op := range append(edits.Ops(), edits.Transparent) {
		if ep, _ := edits.Path(op); strings.HasSuffix(p, ep) {
			return endpoint{op: op, path: ep}
		}
	}
	for _, u := range unimplemented() {
		if strings.HasSuffix(p, u) {
			return endpoint{path: u, unimplemented: true}
		}
	}
	return endpoint{path: edits.GenerationsPath}
}

// editForm checks an edit endpoint's form, or answers 400/1100: every
// required field present, text fields as text and files as files, no
// field the vendor does not name for the endpoint (the fake is strict
// where the vendor's reference is silent, so that pixform sending an
// unnamed field fails a test), an image and a mask that decode, within
// MaxEditPixels, of the same dimensions.
func (ex *exchange) editForm(ep endpoint) (job, bool) {
	if ep.unimplemented {
		ex.fail(1206, "", 0)
		return job{}, false
	}
	if !ex.parseForm() {
		return job{}, false
	}
	s, _ := edits.Lookup(ep.op)
	form := ex.r.MultipartForm
	prompt, _ := ex.field("prompt")
	ex.counted(prompt)
	invalid := func(format string, args ...any) (job, bool) {
		ex.fail(1100, "The request is invalid: "+fmt.Sprintf(format, args...), 0)
		return job{}, false
	}
	text := []string{}
	files := []string{}
	if s.Prompt {
		text = append(text, "prompt")
	}
	if s.Seed {
		text = append(text, "seed")
	}
	if s.AspectRatio {
		text = append(text, "aspect_ratio")
	}
	if ep.op == edits.AIBackground {
		text = append(text, "style")
	}
	if s.Image {
		files = append(files, "image")
	}
	if s.Mask {
		files = append(files, "mask")
	}
	for k := range form.Value {
		switch {
		case slices.Contains(files, k):
			return invalid("%s must be a file.", k)
		case !slices.Contains(text, k):
			return invalid("unknown field %s.", strconv.Quote(k))
		}
	}
	for k := range form.File {
		if !slices.Contains(files, k) {
			return invalid("unknown file field %s.", strconv.Quote(k))
		}
	}
	if s.Prompt && strings.TrimSpace(prompt) == "" {
		return invalid("prompt is required.")
	}
	var seed int64
	if v, ok := ex.field("seed"); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 || n > 4294967295 {
			return invalid("seed %q must be an integer from 1 to 4294967295.", v)
		}
		seed = n
	}
	ar := "1:1"
	if v, ok := ex.field("aspect_ratio"); ok {
		if !validRatio(v) {
			return invalid("aspect_ratio %q is not supported.", v)
		}
		ar = v
	}
	if v, ok := ex.field("style"); ok && v != "product-shoot" {
		return invalid("style %q does not exist.", v)
	}
	var img, mask image.Image
	for _, name := range files {
		fh := form.File[name]
		if len(fh) == 0 {
			return invalid("%s is required.", name)
		}
		m, err := decodeUpload(fh[0])
		if err != nil {
			return invalid("%s %v.", name, err)
		}
		if name == "image" {
			img = m
		} else {
			mask = m
		}
	}
	if mask != nil && mask.Bounds().Size() != img.Bounds().Size() {
		return invalid("mask is %v but image is %v: they must have the same dimensions.", mask.Bounds().Size(), img.Bounds().Size())
	}
	if img != nil {
		b := img.Bounds()
		ar = fmt.Sprintf("%d:%d", b.Dx(), b.Dy()) // for hostile answers: the source's shape
	}
	var produce func() image.Image
	pngOnly := false
	switch ep.op {
	case edits.RemoveBackground:
		produce, pngOnly = func() image.Image { return cutOut(img) }, true
	case edits.Upscale:
		produce = func() image.Image { return upscale(img) }
	case edits.GenerativeFill:
		produce = func() image.Image { return fill(img, mask, prompt) }
	case edits.AIBackground:
		produce = func() image.Image { return behind(img, prompt, seed) }
	case edits.Transparent:
		produce, pngOnly = func() image.Image { return transparentArt(prompt, ar, seed) }, true
	}
	return job{prompt: prompt, cost: EditCost, aspectRatio: ar, render: func(asJPEG bool) ([]byte, string, error) {
		return encodeOut(produce(), asJPEG && !pngOnly)
	}}, true
}

// decodeUpload decodes an uploaded PNG or JPEG within MaxEditPixels.
func decodeUpload(fh *multipart.FileHeader) (image.Image, error) {
	f, err := fh.Open()
	if err != nil {
		return nil, fmt.Errorf("cannot be read")
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("cannot be read")
	}
	var cfg image.Config
	var decode func(io.Reader) (image.Image, error)
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		cfg, err = png.DecodeConfig(bytes.NewReader(data))
		decode = png.Decode
	case bytes.HasPrefix(data, []byte{0xff, 0xd8, 0xff}):
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(data))
		decode = jpeg.Decode
	default:
		return nil, fmt.Errorf("is not a PNG or JPEG image")
	}
	if err != nil {
		return nil, fmt.Errorf("is not a readable image")
	}
	if cfg.Width < 1 || cfg.Height < 1 || int64(cfg.Width)*int64(cfg.Height) > MaxEditPixels {
		return nil, fmt.Errorf("is %d×%d, outside 1 to %d pixels", cfg.Width, cfg.Height, MaxEditPixels)
	}
	m, err := decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("is not a readable image")
	}
	return m, nil
}

// hashColor is an opaque colour hashed from parts.
func hashColor(parts ...string) color.NRGBA {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	s := h.Sum64()
	return color.NRGBA{uint8(s), uint8(s >> 8), uint8(s >> 16), 255}
}

// cutOut keeps the source inside an ellipse inscribed in it, with a soft
// edge, and makes the rest transparent: a PNG with real alpha.
func cutOut(src image.Image) image.Image {
	b := src.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	cx, cy := float64(b.Dx())/2, float64(b.Dy())/2
	for y := range b.Dy() {
		for x := range b.Dx() {
			dx, dy := (float64(x)+0.5-cx)/(cx*0.8), (float64(y)+0.5-cy)/(cy*0.8)
			d := dx*dx + dy*dy
			c := color.NRGBAModel.Convert(src.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
			switch {
			case d >= 1.2:
				c.A = 0
			case d > 1:
				c.A = uint8(float64(c.A) * (1.2 - d) / 0.2)
			}
			out.SetNRGBA(x, y, c)
		}
	}
	return out
}

// upscale doubles each side.
func upscale(src image.Image) image.Image {
	b := src.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, 2*b.Dx(), 2*b.Dy()))
	draw.ApproxBiLinear.Scale(out, out.Bounds(), src, b, draw.Src, nil)
	return out
}

// fill tints the region the mask marks (white = fill: luminance above
// half) with a colour from the prompt, and keeps the rest.
func fill(src, mask image.Image, prompt string) image.Image {
	b, mb := src.Bounds(), mask.Bounds()
	tint := hashColor("fill", prompt)
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := range b.Dy() {
		for x := range b.Dx() {
			c := color.NRGBAModel.Convert(src.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
			if g := color.GrayModel.Convert(mask.At(mb.Min.X+x, mb.Min.Y+y)).(color.Gray); g.Y > 127 {
				c = color.NRGBA{(c.R + tint.R) / 2, (c.G + tint.G) / 2, (c.B + tint.B) / 2, 255}
			}
			out.SetNRGBA(x, y, c)
		}
	}
	return out
}

// behind draws the source over a vertical gradient from the prompt and
// seed: opaque, the source's size.
func behind(src image.Image, prompt string, seed int64) image.Image {
	b := src.Bounds()
	top, bottom := hashColor("top", prompt, strconv.FormatInt(seed, 10)), hashColor("bottom", prompt, strconv.FormatInt(seed, 10))
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := range b.Dy() {
		c := color.NRGBA{mix(top.R, bottom.R, y, b.Dy()-1), mix(top.G, bottom.G, y, b.Dy()-1), mix(top.B, bottom.B, y, b.Dy()-1), 255}
		for x := range b.Dx() {
			out.SetNRGBA(x, y, c)
		}
	}
	draw.Draw(out, out.Bounds(), src, b.Min, draw.Over)
	return out
}

// transparentArt is a disc of a colour from the prompt and seed on a
// transparent background, at the aspect ratio's fake size.
func transparentArt(prompt, ar string, seed int64) image.Image {
	w, h := Size(ar)
	c := hashColor("png", prompt, strconv.FormatInt(seed, 10))
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	r := float64(min(w, h)) * 0.4
	for y := range h {
		for x := range w {
			dx, dy := float64(x)+0.5-float64(w)/2, float64(y)+0.5-float64(h)/2
			if dx*dx+dy*dy <= r*r {
				out.SetNRGBA(x, y, c)
			}
		}
	}
	return out
}

// encodeOut encodes an edit's answer: PNG, or JPEG when asked.
func encodeOut(m image.Image, asJPEG bool) ([]byte, string, error) {
	var buf bytes.Buffer
	if asJPEG {
		if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 85}); err != nil {
			return nil, "", err
		}
		return buf.Bytes(), "image/jpeg", nil
	}
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, m); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), "image/png", nil
}
