package gallery

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"os"

	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/executor"
	"github.com/pixform/pixform/media"
	"golang.org/x/image/draw"
)

// ThumbSize is the long side of a thumbnail, in pixels.
const ThumbSize = 320

// DefaultMaxFileBytes is the largest image file the gallery reads when the
// provider block sets no larger max_image_bytes: the API's 50 MiB body cap
// with room for a PNG that a WebP answer was transcoded into.
const DefaultMaxFileBytes = 64 << 20

// Limits bound the image files the gallery reads and decodes. The files
// come from the lockfile's paths, which a pull request can change, so a
// small file declaring huge dimensions must not be decoded.
type Limits struct {
	// MaxBytes is the largest file read; 0 means DefaultMaxFileBytes.
	MaxBytes int64
	// MaxPixels is the largest image decoded (width×height); 0 means
	// executor.DefaultMaxImagePixels. It is capped at
	// executor.MaxImagePixelsLimit.
	MaxPixels int64
}

// LimitsOf returns the limits of the images that provider block p accepts:
// an image on disk was accepted under them.
func LimitsOf(p config.Provider) Limits {
	return Limits{MaxBytes: max(p.MaxImageBytes, DefaultMaxFileBytes), MaxPixels: p.MaxImagePixels}
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxFileBytes
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = executor.DefaultMaxImagePixels
	}
	l.MaxPixels = min(l.MaxPixels, executor.MaxImagePixelsLimit)
	return l
}

// TooLargeError is an image file refused for its size (in bytes, or in
// pixels as its header declares them) before its pixels were decoded.
type TooLargeError struct {
	Width, Height int   // declared dimensions; 0 when refused for its bytes
	Max           int64 // the cap it is over: bytes or pixels
}

func (e *TooLargeError) Error() string {
	if e.Width == 0 && e.Height == 0 {
		return fmt.Sprintf("is more than the %d bytes the gallery reads (max_image_bytes); no thumbnail was made", e.Max)
	}
	return fmt.Sprintf("is %d×%d pixels, more than the %d the gallery decodes (max_image_pixels); no thumbnail was made",
		e.Width, e.Height, e.Max)
}

// readImageFile reads the file at name, refusing one of more than
// l.MaxBytes with a *TooLargeError without reading it all.
func readImageFile(name string, l Limits) ([]byte, error) {
	l = l.withDefaults()
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, l.MaxBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > l.MaxBytes {
		return nil, &TooLargeError{Max: l.MaxBytes}
	}
	return data, nil
}

// Thumbnail decodes a PNG or JPEG image and returns it scaled down to fit
// size×size (never up), flattened on white, as a JPEG of quality 80. An
// image of more than lim's bytes or pixels is refused from its header with
// a *TooLargeError.
func Thumbnail(data []byte, size int, lim Limits) ([]byte, error) {
	lim = lim.withDefaults()
	if int64(len(data)) > lim.MaxBytes {
		return nil, &TooLargeError{Max: lim.MaxBytes}
	}
	var decodeConfig func(io.Reader) (image.Config, error)
	var decode func(io.Reader) (image.Image, error)
	switch media.Sniff(data) {
	case media.PNG:
		decodeConfig, decode = png.DecodeConfig, png.Decode
	case media.JPEG:
		decodeConfig, decode = jpeg.DecodeConfig, jpeg.Decode
	default:
		return nil, errors.New("is not a PNG or JPEG image")
	}
	cfg, err := decodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("is not a PNG or JPEG image: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, errors.New("is not a PNG or JPEG image: it has no pixels")
	}
	if int64(cfg.Width)*int64(cfg.Height) > lim.MaxPixels {
		return nil, &TooLargeError{Width: cfg.Width, Height: cfg.Height, Max: lim.MaxPixels}
	}
	src, err := decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("is not a whole PNG or JPEG image: %w", err)
	}
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	if w > size || h > size {
		if w >= h {
			w, h = size, size*h/w
		} else {
			w, h = size*w/h, size
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

// thumbnailOf makes the thumbnail of raw, the bytes a thumbnail URL names
// by their sha256. named is false, and nothing is decoded, when raw is not
// those bytes (the file or take changed since the page was made).
func thumbnailOf(raw []byte, sha string, lim Limits) (data []byte, named bool, err error) {
	if sum := sha256.Sum256(raw); hex.EncodeToString(sum[:]) != sha {
		return nil, false, nil
	}
	data, err = Thumbnail(raw, ThumbSize, lim)
	return data, true, err
}
