package gallery

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/draw"
)

// ThumbSize is the long side of a thumbnail, in pixels.
const ThumbSize = 320

// Thumbnail decodes a PNG or JPEG image and returns it scaled down to fit
// max×max (never up), flattened on white, as a JPEG of quality 80.
func Thumbnail(data []byte, max int) ([]byte, error) {
	var src image.Image
	var err error
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		src, err = png.Decode(bytes.NewReader(data))
	case bytes.HasPrefix(data, []byte{0xff, 0xd8, 0xff}):
		src, err = jpeg.Decode(bytes.NewReader(data))
	default:
		return nil, errors.New("make thumbnail: not a PNG or JPEG image")
	}
	if err != nil {
		return nil, fmt.Errorf("make thumbnail: decode: %w", err)
	}
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 {
		return nil, errors.New("make thumbnail: empty image")
	}
	if w > max || h > max {
		if w >= h {
			w, h = max, max*h/w
		} else {
			w, h = max*w/h, max
		}
		w, h = maxInt(w, 1), maxInt(h, 1)
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.BiLinear.Scale(dst, dst.Bounds(), src, b, draw.Over, nil)
	var out bytes.Buffer
	if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: 80}); err != nil {
		return nil, fmt.Errorf("make thumbnail: encode: %w", err)
	}
	return out.Bytes(), nil
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}
