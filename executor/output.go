package executor

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path"
	"strconv"
	"strings"

	"golang.org/x/image/webp"

	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/media"
)

// jpegQuality is the quality of a transcoded JPEG.
const jpegQuality = 92

// MediaTypeOf returns the media type that a path's extension names (see
// media.OfPath), or an error naming the path.
func MediaTypeOf(p string) (string, error) {
	if mt, ok := media.OfPath(p); ok {
		return mt, nil
	}
	return "", fmt.Errorf("output path %s: unsupported extension %q: use %s", p, path.Ext(p), media.Extensions)
}

// digestWriter hashes and counts what is written through it.
type digestWriter struct {
	h hash.Hash
	n int64
	// checking says that stream verifies the bytes as they are written
	// (media.Stream), so that finish need not read them back from the
	// temporary file.
	checking bool
	stream   media.Stream
}

func newDigestWriter() *digestWriter { return &digestWriter{h: sha256.New()} }

// newCheckingDigestWriter is a digestWriter that also verifies the image
// written through it, in the same pass.
func newCheckingDigestWriter() *digestWriter {
	return &digestWriter{h: sha256.New(), checking: true}
}

func (d *digestWriter) Write(p []byte) (int, error) {
	d.h.Write(p)
	d.n += int64(len(p))
	if d.checking {
		d.stream.Write(p)
	}
	return len(p), nil
}

func (d *digestWriter) sum() string { return hex.EncodeToString(d.h.Sum(nil)) }

// output is a validated image in a temporary file, ready to commit.
type output struct {
	tmp       *os.File // made by a Store's CreateTemp beside the target
	sha256    string
	bytes     int64
	mediaType string
	width     int
	height    int
}

// sniff names the format of an encoded image from its first bytes: "png",
// "jpeg", "webp", or "" when unknown.
func sniff(head []byte) string {
	if mt := media.Sniff(head); mt != "" {
		return strings.TrimPrefix(mt, "image/")
	}
	if len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP" {
		return "webp"
	}
	return ""
}

// notImageError is the transient failure of a body that is not one whole
// image we accept: truncated, garbled, of an unknown format, or outside
// the provider's bounds. An image outside the bounds came whole from the
// server: it is Paid, and retried once only (paidRetries).
func notImageError(what string, err error) error {
	var oob *outOfBounds
	if errors.As(err, &oob) {
		return &Error{Class: Transient, Paid: true, Err: err,
			Msg: fmt.Sprintf("%s is refused: %v; the server made and sent it, so it is paid for", what, oob.err)}
	}
	return &Error{Class: Transient, Msg: fmt.Sprintf("%s is not a whole PNG, JPEG or WebP image: %v", what, err), Err: err}
}

// outOfBounds is an image whose header is outside what was accepted.
type outOfBounds struct{ err error }

func (e *outOfBounds) Error() string { return e.err.Error() }
func (e *outOfBounds) Unwrap() error { return e.err }

// DefaultMaxImagePixels is the largest image, in pixels, decoded from a
// provider that states no bounds: 4096×4096, four times the vendor's
// largest with margin. Decoding takes 4 to 8 bytes a pixel, so the cap is
// what keeps a small compressed "bomb" from exhausting memory.
const DefaultMaxImagePixels = 4096 * 4096

// MaxImagePixelsLimit is the most that ImageBounds.MaxPixels can raise the
// cap to (16384×16384, 1 GiB decoded); cached copies, which were accepted
// once already, are held to it alone.
const MaxImagePixelsLimit = config.MaxImagePixelsLimit

// ImageBounds are the images a provider serves. finish refuses an answer
// outside them, from its header and before its pixels are decoded, as a
// transient bad body.
type ImageBounds struct {
	// MaxPixels is the most pixels (width×height); 0 means
	// DefaultMaxImagePixels. It is capped at MaxImagePixelsLimit.
	MaxPixels int64
	// MinSide is the least length of the shorter side; 0 means any.
	MinSide int
	// AspectTolerance is how far, relatively, the image's aspect ratio may
	// be from the request's; 0 means the ratio is not checked.
	AspectTolerance float64
}

// Bounded is a Provider that states the bounds of the images it serves.
type Bounded interface {
	ImageBounds() ImageBounds
}

// boundsOf returns what p states, or the default pixel cap alone.
func boundsOf(p Provider) ImageBounds {
	var b ImageBounds
	if bp, ok := p.(Bounded); ok {
		b = bp.ImageBounds()
	}
	if b.MaxPixels <= 0 {
		b.MaxPixels = DefaultMaxImagePixels
	}
	b.MaxPixels = min(b.MaxPixels, MaxImagePixelsLimit)
	return b
}

// finishResponse is finish for a provider's answer to req: the image must
// also be within p's bounds, at req's aspect ratio.
// what names the response for errors; it is called only on one.
func finishResponse(tmp *os.File, giveUp func(*os.File), target string, req Request, p Provider, d *digestWriter, what func() string) (output, error) {
	b := boundsOf(p)
	return finishWithin(tmp, giveUp, target, req.MediaType, d, what, func(cfg image.Config) error { return b.check(cfg, req.AspectRatio) })
}

// check says why an image of size cfg is outside b for aspect ratio ar
// ("W:H"; empty or unreadable skips the ratio check), or returns nil.
func (b ImageBounds) check(cfg image.Config, ar string) error {
	w, h := int64(cfg.Width), int64(cfg.Height)
	if b.MaxPixels > 0 && w*h > b.MaxPixels {
		return &BoundsError{Bound: BoundMaxPixels, Msg: fmt.Sprintf("it is %d×%d pixels, more than the %d accepted (max_image_pixels); its pixels were not decoded", w, h, b.MaxPixels)}
	}
	if b.MinSide > 0 && min(w, h) < int64(b.MinSide) {
		return &BoundsError{Bound: BoundMinSide, Msg: fmt.Sprintf("it is %d×%d pixels, smaller than the %d px on the shorter side that the provider serves", w, h, b.MinSide)}
	}
	if rw, rh, ok := parseRatio(ar); ok && b.AspectTolerance > 0 {
		want := float64(rw) / float64(rh)
		got := float64(w) / float64(h)
		if off := got/want - 1; off > b.AspectTolerance || off < -b.AspectTolerance {
			return &BoundsError{Bound: BoundAspectRatio, Msg: fmt.Sprintf("it is %d×%d pixels, not at the aspect ratio %s requested (%.0f%% off)", w, h, ar, 100*max(off, -off))}
		}
	}
	return nil
}

// The bounds of ImageBounds that a BoundsError names.
const (
	BoundMaxPixels   = "max_image_pixels"
	BoundMinSide     = "min_side"
	BoundAspectRatio = "aspect_ratio"
)

// BoundsError is an image refused, from its header, for one of the
// provider's ImageBounds: Bound says which (BoundMaxPixels, BoundMinSide,
// BoundAspectRatio), for what the user can change. An answer refused so
// came whole from the server: its *Error is Paid.
type BoundsError struct {
	Bound string
	Msg   string
}

func (e *BoundsError) Error() string { return e.Msg }

// CheckBounds says why an image of w×h pixels is outside what p serves
// for req (the bounds and aspect ratio an answer is checked against), or
// returns nil: for a caller that keeps an answer apply did not check.
func CheckBounds(p Provider, req Request, w, h int) error {
	return boundsOf(p).check(image.Config{Width: w, Height: h}, req.AspectRatio)
}

// parseRatio reads "W:H" with positive whole terms.
func parseRatio(ar string) (w, h int, ok bool) {
	a, b, found := strings.Cut(ar, ":")
	w, errW := strconv.Atoi(strings.TrimSpace(a))
	h, errH := strconv.Atoi(strings.TrimSpace(b))
	if !found || errW != nil || errH != nil || w <= 0 || h <= 0 {
		return 0, 0, false
	}
	return w, h, true
}

// finish validates the image that tmp holds (written from offset 0, with
// digest d of its bytes): it must decode whole, and be at most
// MaxImagePixelsLimit pixels. When its format is not want, it is
// transcoded into tmp itself, in place of what it held. what names the
// source for errors ("the cached copy"). On error tmp is given up with
// giveUp (the AbortTemp of whatever made it: a Store's removes it from
// the directory it was made in); on success the returned output owns it.
func finish(tmp *os.File, giveUp func(*os.File), target, want string, d *digestWriter, what string) (output, error) {
	return finishWithin(tmp, giveUp, target, want, d, func() string { return what }, func(cfg image.Config) error {
		return ImageBounds{MaxPixels: MaxImagePixelsLimit}.check(cfg, "")
	})
}

// finishWithin is finish with accept judging the image's header before
// its pixels are decoded.
func finishWithin(tmp *os.File, giveUp func(*os.File), target, want string, d *digestWriter, what func() string, accept func(image.Config) error) (output, error) {
	if out, ok, err := checkAsIs(tmp, want, d, accept); ok || err != nil {
		if err != nil {
			giveUp(tmp)
			return output{}, notImageError(what(), err)
		}
		return out, nil
	}
	img, format, err := decodeWhole(tmp, accept)
	if err != nil {
		giveUp(tmp)
		return output{}, notImageError(what(), err)
	}
	b := img.Bounds()
	out := output{tmp: tmp, sha256: d.sum(), bytes: d.n, mediaType: want, width: b.Dx(), height: b.Dy()}
	if out.width <= 0 || out.height <= 0 {
		giveUp(tmp)
		return output{}, notImageError(what(), fmt.Errorf("empty %dx%d image", out.width, out.height))
	}
	if media.OfFormat(format) == want {
		return out, nil
	}
	// The pixels are in memory: tmp itself takes the transcoded image,
	// made where the Store made it (a new file beside target would be
	// made through target's path as it is now).
	if err := tmp.Truncate(0); err != nil {
		giveUp(tmp)
		return output{}, fmt.Errorf("transcode %s image to %s for %s: %w", format, want, target, err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		giveUp(tmp)
		return output{}, fmt.Errorf("transcode %s image to %s for %s: %w", format, want, target, err)
	}
	nd := newDigestWriter()
	if err := encode(io.MultiWriter(tmp, nd), img, want); err != nil {
		giveUp(tmp)
		return output{}, fmt.Errorf("transcode %s image to %s for %s: %w", format, want, target, err)
	}
	out.sha256, out.bytes = nd.sum(), nd.n
	return out, nil
}

// checkAsIs verifies tmp as it is when it already holds want's format
// (ok true): structurally, without inflating its pixels (media.Check, or
// the verdict of d's media.Stream when d checked the bytes on their way
// into tmp), its header judged by accept. It reports ok false, reading nothing more than
// the first bytes, when tmp holds another format, which must be decoded
// whole to be transcoded.
func checkAsIs(tmp *os.File, want string, d *digestWriter, accept func(image.Config) error) (out output, ok bool, err error) {
	if d.checking {
		// Verified as it was written: the same bytes as tmp holds.
		mt, w, h, err := d.stream.Result()
		if mt != want {
			return output{}, false, nil
		}
		if err != nil {
			return output{}, true, err
		}
		if err := accept(image.Config{Width: w, Height: h}); err != nil {
			return output{}, true, &outOfBounds{err}
		}
		return output{tmp: tmp, sha256: d.sum(), bytes: d.n, mediaType: mt, width: w, height: h}, true, nil
	}
	var head [8]byte
	n, _ := tmp.ReadAt(head[:], 0)
	if media.Sniff(head[:n]) != want {
		return output{}, false, nil
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return output{}, true, err
	}
	mt, w, h, err := media.Check(tmp)
	if err != nil {
		return output{}, true, err
	}
	if err := accept(image.Config{Width: w, Height: h}); err != nil {
		return output{}, true, &outOfBounds{err}
	}
	return output{tmp: tmp, sha256: d.sum(), bytes: d.n, mediaType: mt, width: w, height: h}, true, nil
}

// decodeWhole decodes the whole image in f from its start, reading it once. Its header is
// read first and given to accept, so that an image too large to decode is
// refused before any pixel is; a refusal is an *outOfBounds. A truncated
// or corrupt image fails: every pixel is decoded, not only the header.
func decodeWhole(f *os.File, accept func(image.Config) error) (image.Image, string, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, "", err
	}
	br := bufio.NewReaderSize(f, 32<<10)
	head, _ := br.Peek(12)
	format := sniff(head)
	var decodeConfig func(io.Reader) (image.Config, error)
	var decode func(io.Reader) (image.Image, error)
	switch format {
	case "png":
		decodeConfig, decode = png.DecodeConfig, png.Decode
	case "jpeg":
		decodeConfig, decode = jpeg.DecodeConfig, jpeg.Decode
	case "webp":
		decodeConfig, decode = webp.DecodeConfig, webp.Decode
	default:
		if len(head) == 0 {
			return nil, "", fmt.Errorf("empty body")
		}
		return nil, "", fmt.Errorf("unknown format (starts %q)", head)
	}
	// The header's bytes are kept as they are read, and replayed before
	// the rest for the full decode: the file is read once.
	var header bytes.Buffer
	cfg, err := decodeConfig(io.TeeReader(br, &header))
	if err != nil {
		return nil, "", fmt.Errorf("decode %s header: %w", format, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, "", fmt.Errorf("empty %dx%d image", cfg.Width, cfg.Height)
	}
	if err := accept(cfg); err != nil {
		return nil, "", &outOfBounds{err}
	}
	img, err := decode(io.MultiReader(&header, br))
	if err != nil {
		return nil, "", fmt.Errorf("decode %s: %w", format, err)
	}
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return nil, "", fmt.Errorf("decode %s: the header says %dx%d, the pixels %dx%d", format, cfg.Width, cfg.Height, b.Dx(), b.Dy())
	}
	return img, format, nil
}

// encode writes img to w in media type mt: PNG at best speed, JPEG at
// quality 92.
func encode(w io.Writer, img image.Image, mt string) error {
	bw := bufio.NewWriterSize(w, 32<<10)
	var err error
	switch mt {
	case media.PNG:
		enc := png.Encoder{CompressionLevel: png.BestSpeed}
		err = enc.Encode(bw, img)
	case media.JPEG:
		err = jpeg.Encode(bw, img, &jpeg.Options{Quality: jpegQuality})
	default:
		err = fmt.Errorf("unsupported media type %s", mt)
	}
	if err != nil {
		return err
	}
	return bw.Flush()
}
