package fakeapi

import (
	"bytes"
	"hash/fnv"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strconv"
)

// shortSide is the size of a fake image's shorter side, in pixels.
const shortSide = 64

// Size returns the pixel size of the fake's images at an aspect ratio:
// 64 px on the short side. Unknown ratios give a square.
func Size(aspectRatio string) (w, h int) {
	a, b, ok := ratio(aspectRatio)
	if !ok {
		a, b = 1, 1
	}
	if a >= b {
		return (shortSide*a + b/2) / b, shortSide
	}
	return shortSide, (shortSide*b + a/2) / a
}

// renderImage encodes a small deterministic picture for the request: a
// diagonal gradient between two colours hashed from its inputs.
func renderImage(prompt, style, aspectRatio string, seed int64, asJPEG bool) ([]byte, string, error) {
	h := fnv.New64a()
	h.Write([]byte(prompt))
	h.Write([]byte{0})
	h.Write([]byte(style))
	h.Write([]byte{0})
	h.Write([]byte(strconv.FormatInt(seed, 10)))
	sum := h.Sum64()
	c1 := color.RGBA{uint8(sum), uint8(sum >> 8), uint8(sum >> 16), 255}
	c2 := color.RGBA{uint8(sum >> 24), uint8(sum >> 32), uint8(sum >> 40), 255}

	w, ht := Size(aspectRatio)
	img := image.NewRGBA(image.Rect(0, 0, w, ht))
	span := w + ht - 2
	for y := range ht {
		for x := range w {
			t := x + y
			i := img.PixOffset(x, y)
			img.Pix[i+0] = mix(c1.R, c2.R, t, span)
			img.Pix[i+1] = mix(c1.G, c2.G, t, span)
			img.Pix[i+2] = mix(c1.B, c2.B, t, span)
			img.Pix[i+3] = 255
		}
	}
	var buf bytes.Buffer
	if asJPEG {
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
			return nil, "", err
		}
		return buf.Bytes(), "image/jpeg", nil
	}
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), "image/png", nil
}

func mix(a, b uint8, t, span int) uint8 {
	if span <= 0 {
		return a
	}
	return uint8((int(a)*(span-t) + int(b)*t) / span)
}
