package imaging

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"strconv"
	"strings"

	"golang.org/x/image/draw"

	"github.com/pixform/pixform/media"
)

// The fits of Resize.
const (
	// Contain scales the whole image to fit inside width×height, keeping
	// its aspect ratio: one side may come out shorter (no padding is
	// added). The default.
	Contain = "contain"
	// Cover scales the image to cover width×height, keeping its aspect
	// ratio, and crops what overflows around the centre: exactly
	// width×height.
	Cover = "cover"
	// Fill stretches the image to exactly width×height.
	Fill = "fill"
)

// Fits lists the fits Resize accepts, for messages.
func Fits() []string { return []string{Contain, Cover, Fill} }

// MaxPixels bounds the images Resize and Crop make: 8192×8192, four bytes
// a pixel, 256 MiB.
const MaxPixels = 8192 * 8192

// DefaultQuality is the JPEG quality Encode uses for quality 0.
const DefaultQuality = 90

// ErrSize is wrapped by the errors of a size Resize cannot make.
var ErrSize = errors.New("bad size")

// Resize returns src scaled to width×height by fit ("" means Contain).
// A width or height of 0 keeps the aspect ratio from the other side (fit
// then changes nothing); both 0, a negative side, or a result beyond
// MaxPixels is an error wrapping ErrSize. The result starts at (0, 0).
func Resize(src image.Image, width, height int, fit string) (image.Image, error) {
	sb := src.Bounds()
	sw, sh := sb.Dx(), sb.Dy()
	switch {
	case sw <= 0 || sh <= 0:
		return nil, fmt.Errorf("%w: the source image is empty", ErrSize)
	case width < 0 || height < 0:
		return nil, fmt.Errorf("%w: width and height must not be negative (got %d×%d)", ErrSize, width, height)
	case width == 0 && height == 0:
		return nil, fmt.Errorf("%w: give a width, a height or both", ErrSize)
	}
	if fit == "" {
		fit = Contain
	}
	if width == 0 || height == 0 {
		fit = Fill
		if width == 0 {
			width = max(1, int(math.Round(float64(sw)*float64(height)/float64(sh))))
		} else {
			height = max(1, int(math.Round(float64(sh)*float64(width)/float64(sw))))
		}
	}
	if err := checkSize(width, height); err != nil {
		return nil, err
	}
	switch fit {
	case Fill:
		return scale(src, sb, width, height), nil
	case Contain:
		// The side that limits decides the scale.
		if sw*height > sh*width { // wider than the box
			height = max(1, int(math.Round(float64(sh)*float64(width)/float64(sw))))
		} else {
			width = max(1, int(math.Round(float64(sw)*float64(height)/float64(sh))))
		}
		return scale(src, sb, width, height), nil
	case Cover:
		// The part of src with the box's ratio, around the centre, scaled.
		return scale(src, centred(sb, width, height), width, height), nil
	}
	return nil, fmt.Errorf("unknown fit %q: use %s, %s or %s", fit, Contain, Cover, Fill)
}

// Crop returns the largest part of src, around its centre, with the aspect
// ratio "W:H" (two positive integers), starting at (0, 0).
func Crop(src image.Image, ratio string) (image.Image, error) {
	rw, rh, err := ParseRatio(ratio)
	if err != nil {
		return nil, err
	}
	sb := src.Bounds()
	if sb.Empty() {
		return nil, fmt.Errorf("%w: the source image is empty", ErrSize)
	}
	r := centred(sb, rw, rh)
	if err := checkSize(r.Dx(), r.Dy()); err != nil {
		return nil, err
	}
	out := image.NewNRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(out, out.Bounds(), src, r.Min, draw.Src)
	return out, nil
}

// ParseRatio parses an aspect ratio "W:H" of two positive integers up to
// 10000.
func ParseRatio(ratio string) (w, h int, err error) {
	a, b, ok := strings.Cut(ratio, ":")
	w, errW := strconv.Atoi(a)
	h, errH := strconv.Atoi(b)
	if !ok || errW != nil || errH != nil || w < 1 || h < 1 || w > 10000 || h > 10000 {
		return 0, 0, fmt.Errorf("aspect ratio %q is not W:H with two positive whole numbers (such as 16:9)", ratio)
	}
	return w, h, nil
}

// centred is the largest rectangle of ratio rw:rh inside b, around its
// centre (at least 1×1).
func centred(b image.Rectangle, rw, rh int) image.Rectangle {
	w, h := b.Dx(), b.Dy()
	if int64(w)*int64(rh) > int64(h)*int64(rw) { // too wide: keep the height
		w = max(1, int(math.Round(float64(h)*float64(rw)/float64(rh))))
	} else {
		h = max(1, int(math.Round(float64(w)*float64(rh)/float64(rw))))
	}
	x := b.Min.X + (b.Dx()-w)/2
	y := b.Min.Y + (b.Dy()-h)/2
	return image.Rect(x, y, x+w, y+h)
}

func checkSize(w, h int) error {
	if int64(w)*int64(h) > MaxPixels {
		return fmt.Errorf("%w: %d×%d is more than %d pixels", ErrSize, w, h, MaxPixels)
	}
	return nil
}

// scale draws the part r of src onto a new w×h image. x/image/draw
// interpolates premultiplied colour, so transparent pixels' hidden colour
// does not bleed into their neighbours; the result is non-premultiplied,
// as PNG stores it. The kernel is Catmull-Rom: as sharp as image editors'
// bicubic filters, and, unlike ApproxBiLinear, it averages every source
// pixel on a downscale instead of sampling a few (BenchmarkKernels
// measures the aliasing and the cost of each).
func scale(src image.Image, r image.Rectangle, w, h int) image.Image {
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(out, out.Bounds(), src, r, draw.Src, nil)
	return out
}

// Encode writes img as mediaType (media.PNG or media.JPEG). quality is the
// JPEG quality, 1 to 100, 0 meaning DefaultQuality; PNG ignores it. JPEG
// has no alpha: a translucent image is flattened onto white, as viewers
// show it on a page, rather than onto the black its hidden colour would
// give.
func Encode(w io.Writer, img image.Image, mediaType string, quality int) error {
	switch mediaType {
	case media.PNG:
		enc := png.Encoder{CompressionLevel: png.DefaultCompression}
		return enc.Encode(w, img)
	case media.JPEG:
		if quality == 0 {
			quality = DefaultQuality
		}
		if quality < 1 || quality > 100 {
			return fmt.Errorf("JPEG quality %d is out of range: use 1 to 100", quality)
		}
		return jpeg.Encode(w, flatten(img), &jpeg.Options{Quality: quality})
	}
	return fmt.Errorf("cannot encode %q: only %s and %s", mediaType, media.PNG, media.JPEG)
}

// flatten returns img drawn over white, or img itself when it is opaque.
func flatten(img image.Image) image.Image {
	if o, ok := img.(interface{ Opaque() bool }); ok && o.Opaque() {
		return img
	}
	b := img.Bounds()
	out := image.NewRGBA(b)
	draw.Draw(out, b, image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.Draw(out, b, img, b.Min, draw.Over)
	return out
}
