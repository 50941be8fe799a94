package fakeapi

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"hash/fnv"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"strconv"
	"sync"
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
	if !asJPEG {
		return gradientPNG(w, ht, c1, c2), "image/png", nil
	}
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
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), "image/jpeg", nil
}

// gradientIDATs caches, per image size, the compressed pixel stream of
// gradientPNG: only the palette differs between requests, so the fake's
// CPU per image is a few small chunk writes, not a deflate (a benchmark
// measures pixform, not the fake).
var gradientIDATs sync.Map // [2]int{w, h} → []byte, zlib data

// gradientPNG is a w×h paletted PNG of the diagonal gradient from c1 to
// c2: pixel (x, y) has palette index (x+y)·255/(w+h−2), and palette entry
// i is c1 mixed with c2 at i/255.
func gradientPNG(w, h int, c1, c2 color.RGBA) []byte {
	key := [2]int{w, h}
	idat, ok := gradientIDATs.Load(key)
	if !ok {
		span := w + h - 2
		raw := make([]byte, 0, h*(w+1))
		for y := range h {
			raw = append(raw, 0) // filter: none
			for x := range w {
				i := 255
				if span > 0 {
					i = (x + y) * 255 / span
				}
				raw = append(raw, uint8(i))
			}
		}
		var z bytes.Buffer
		zw, _ := zlib.NewWriterLevel(&z, zlib.BestSpeed)
		zw.Write(raw)
		zw.Close()
		idat, _ = gradientIDATs.LoadOrStore(key, z.Bytes())
	}
	data := idat.([]byte)
	out := make([]byte, 0, 8+25+12+3*256+12+len(data)+12)
	out = append(out, "\x89PNG\r\n\x1a\n"...)
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 8, 3 // bit depth 8, colour type 3: paletted
	out = appendChunk(out, "IHDR", ihdr)
	plte := make([]byte, 0, 3*256)
	for i := range 256 {
		plte = append(plte, mix(c1.R, c2.R, i, 255), mix(c1.G, c2.G, i, 255), mix(c1.B, c2.B, i, 255))
	}
	out = appendChunk(out, "PLTE", plte)
	out = appendChunk(out, "IDAT", data)
	return appendChunk(out, "IEND", nil)
}

// appendChunk appends a PNG chunk of type typ holding data.
func appendChunk(out []byte, typ string, data []byte) []byte {
	out = binary.BigEndian.AppendUint32(out, uint32(len(data)))
	start := len(out)
	out = append(out, typ...)
	out = append(out, data...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(out[start:]))
}

func mix(a, b uint8, t, span int) uint8 {
	if span <= 0 {
		return a
	}
	return uint8((int(a)*(span-t) + int(b)*t) / span)
}

// plainPNG is a w×h grey PNG.
func plainPNG(w, h int) []byte {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 128
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

// BombPNG returns a small PNG whose header declares w×h 8-bit grey pixels: its
// data holds a few zero rows only, but a decoder allocates w×h bytes
// before it finds out.
func BombPNG(w, h int) []byte {
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&out, binary.BigEndian, uint32(len(data)))
		c := crc32.NewIEEE()
		io.WriteString(c, typ)
		c.Write(data)
		out.WriteString(typ)
		out.Write(data)
		binary.Write(&out, binary.BigEndian, c.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8] = 8 // bit depth; colour type 0, greyscale
	chunk("IHDR", ihdr)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(make([]byte, 64*(w+1)))
	zw.Close()
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return out.Bytes()
}
