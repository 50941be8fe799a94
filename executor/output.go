package executor

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path"
	"strings"

	"golang.org/x/image/webp"

	"github.com/pixform/pixform/state"
)

// Media types of output files.
const (
	MediaPNG  = "image/png"
	MediaJPEG = "image/jpeg"
)

// jpegQuality is the quality of a transcoded JPEG.
const jpegQuality = 92

// MediaTypeOf returns the media type that a path's extension names:
// .png → image/png, .jpg and .jpeg → image/jpeg (case-insensitive).
func MediaTypeOf(p string) (string, error) {
	switch strings.ToLower(path.Ext(p)) {
	case ".png":
		return MediaPNG, nil
	case ".jpg", ".jpeg":
		return MediaJPEG, nil
	}
	return "", fmt.Errorf("output path %s: unsupported extension %q: use .png, .jpg or .jpeg", p, path.Ext(p))
}

// digestWriter hashes and counts what is written through it.
type digestWriter struct {
	h hash.Hash
	n int64
}

func newDigestWriter() *digestWriter { return &digestWriter{h: sha256.New()} }

func (d *digestWriter) Write(p []byte) (int, error) {
	d.h.Write(p)
	d.n += int64(len(p))
	return len(p), nil
}

func (d *digestWriter) sum() string { return hex.EncodeToString(d.h.Sum(nil)) }

// output is a validated image in a temporary file, ready to commit.
type output struct {
	tmp       *os.File // made by state.CreateTemp beside the target
	sha256    string
	bytes     int64
	mediaType string
	width     int
	height    int
}

// sniff names the format of an encoded image from its first bytes: "png",
// "jpeg", "webp", or "" when unknown.
func sniff(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return "png"
	case bytes.HasPrefix(head, []byte("\xff\xd8\xff")):
		return "jpeg"
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return "webp"
	}
	return ""
}

// notImageError is the transient failure of a body that is not one whole
// image: truncated, garbled, or of an unknown format.
func notImageError(what string, err error) error {
	return &Error{
		Class: Transient,
		Msg:   fmt.Sprintf("%s is not a whole PNG, JPEG or WebP image: %v", what, err),
		Err:   err,
	}
}

// finish validates the image that tmp holds (written from offset 0, with
// digest d of its bytes): it must decode whole. When its format is not
// want, it is transcoded into a new temporary file beside target. what
// names the source for errors ("the API's response"). On error tmp (and
// any new temporary file) is removed; on success the returned output owns
// the temporary file.
func finish(tmp *os.File, target, want string, d *digestWriter, what string) (output, error) {
	img, format, err := decodeWhole(tmp)
	if err != nil {
		state.AbortTemp(tmp)
		return output{}, notImageError(what, err)
	}
	b := img.Bounds()
	out := output{tmp: tmp, sha256: d.sum(), bytes: d.n, mediaType: want, width: b.Dx(), height: b.Dy()}
	if out.width <= 0 || out.height <= 0 {
		state.AbortTemp(tmp)
		return output{}, notImageError(what, fmt.Errorf("empty %dx%d image", out.width, out.height))
	}
	if mediaOf(format) == want {
		return out, nil
	}
	state.AbortTemp(tmp)
	nt, err := state.CreateTemp(target)
	if err != nil {
		return output{}, err
	}
	nd := newDigestWriter()
	if err := encode(io.MultiWriter(nt, nd), img, want); err != nil {
		state.AbortTemp(nt)
		return output{}, fmt.Errorf("transcode %s image to %s for %s: %w", format, want, target, err)
	}
	out.tmp, out.sha256, out.bytes = nt, nd.sum(), nd.n
	return out, nil
}

func mediaOf(format string) string {
	switch format {
	case "png":
		return MediaPNG
	case "jpeg":
		return MediaJPEG
	}
	return "image/" + format
}

// decodeWhole decodes the whole image in f from its start. A truncated or
// corrupt image fails: every pixel is decoded, not only the header.
func decodeWhole(f *os.File) (image.Image, string, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, "", err
	}
	br := bufio.NewReaderSize(f, 32<<10)
	head, _ := br.Peek(12)
	format := sniff(head)
	var img image.Image
	var err error
	switch format {
	case "png":
		img, err = png.Decode(br)
	case "jpeg":
		img, err = jpeg.Decode(br)
	case "webp":
		img, err = webp.Decode(br)
	default:
		if len(head) == 0 {
			return nil, "", fmt.Errorf("empty body")
		}
		return nil, "", fmt.Errorf("unknown format (starts %q)", head)
	}
	if err != nil {
		return nil, "", fmt.Errorf("decode %s: %w", format, err)
	}
	return img, format, nil
}

// encode writes img to w in media type mt: PNG at best speed, JPEG at
// quality 92.
func encode(w io.Writer, img image.Image, mt string) error {
	bw := bufio.NewWriterSize(w, 32<<10)
	var err error
	switch mt {
	case MediaPNG:
		enc := png.Encoder{CompressionLevel: png.BestSpeed}
		err = enc.Encode(bw, img)
	case MediaJPEG:
		err = jpeg.Encode(bw, img, &jpeg.Options{Quality: jpegQuality})
	default:
		err = fmt.Errorf("unsupported media type %s", mt)
	}
	if err != nil {
		return err
	}
	return bw.Flush()
}
