package edits

import (
	"bytes"
	"errors"
	"fmt"
	"image/jpeg"
	"image/png"
	"net/url"
	"slices"
	"strings"

	"github.com/pixform/pixform/media"
	"github.com/pixform/pixform/providers"
)

// The operations that call an endpoint. All but Transparent are values of
// a derived image's `operation`; Transparent is the Text to PNG endpoint,
// chosen by `transparent = true` on a text-to-image block.
const (
	RemoveBackground = "remove-background"
	Upscale          = "upscale"
	GenerativeFill   = "generative-fill"
	AIBackground     = "ai-background"
	Transparent      = "transparent"
)

// The local operations: done on this machine by package imaging, with no
// request and no credit. They have no endpoint.
const (
	Resize  = "resize"
	Crop    = "crop"
	Convert = "convert" // PNG to JPEG or back, with a JPEG quality
)

// GenerationsPath is the path that the text-to-image URL (IMAGINE_API_URL)
// ends with; every other endpoint's URL replaces it with its own path.
const GenerationsPath = "/image/generations"

// Spec states what one operation sends. A field that is neither required
// nor accepted must not be set: it would not be sent, so a value for it
// would change nothing.
type Spec struct {
	Op    string
	Title string // the vendor's name of the endpoint, for messages
	// Path is the endpoint's path below the API's version ("/image/enhance"),
	// "" for a local operation.
	Path string
	// Local operations make no request (no Path, no credit).
	Local bool
	// Image: the operation sends a source image (a derived image's `from`).
	Image bool
	// Prompt and Mask are required when true and must be empty otherwise.
	Prompt bool
	Mask   bool
	// Seed and AspectRatio are optional when true and must be unset
	// otherwise. No operation accepts a style: the only one the vendor
	// names for ai-background is its default, which is therefore not sent.
	Seed        bool
	AspectRatio bool
}

// specs lists every operation, request operations first, in the order Ops
// returns them.
var specs = [...]Spec{
	{Op: RemoveBackground, Title: "Background Remover", Path: "/image/background/remover", Image: true},
	{Op: Upscale, Title: "Image Upscale", Path: "/image/enhance", Image: true},
	{Op: GenerativeFill, Title: "Generative Fill", Path: "/image/edits/generative-fill", Image: true, Prompt: true, Mask: true},
	{Op: AIBackground, Title: "AI Backgrounds", Path: "/image/generations/ai-background", Image: true, Prompt: true, Seed: true},
	{Op: Transparent, Title: "Text to PNG", Path: "/image/generations/transparent", Prompt: true, Seed: true, AspectRatio: true},
	{Op: Resize, Title: "resize", Local: true, Image: true},
	{Op: Crop, Title: "crop", Local: true, Image: true},
	{Op: Convert, Title: "convert", Local: true, Image: true},
}

// AspectRatios are the aspect ratios the Text to PNG endpoint accepts.
func AspectRatios() []string { return []string{"1:1", "3:2", "4:3", "3:4", "16:9", "9:16"} }

// Lookup returns the Spec of op, and false for an unknown operation.
func Lookup(op string) (Spec, bool) {
	for _, s := range specs {
		if s.Op == op {
			return s, true
		}
	}
	return Spec{}, false
}

// Ops returns the values a derived image's `operation` may take: the
// operations that call an endpoint on a source image, in a fixed order
// (for messages and did-you-mean suggestions).
func Ops() []string {
	var ops []string
	for _, s := range specs {
		if s.Image && !s.Local {
			ops = append(ops, s.Op)
		}
	}
	return ops
}

// Needs reports whether op requires a prompt and a mask. Both are false
// for an unknown operation.
func Needs(op string) (prompt, mask bool) {
	s, _ := Lookup(op)
	return s.Prompt, s.Mask
}

// Accepts reports whether op accepts the optional seed and aspect ratio.
// Both are false for an unknown operation.
func Accepts(op string) (seed, aspectRatio bool) {
	s, _ := Lookup(op)
	return s.Seed, s.AspectRatio
}

// Local reports whether op is done on this machine, without a request.
func Local(op string) bool {
	s, ok := Lookup(op)
	return ok && s.Local
}

// Path returns the endpoint path of op ("/image/enhance"). A local or
// unknown operation is an error.
func Path(op string) (string, error) {
	s, ok := Lookup(op)
	switch {
	case !ok:
		return "", fmt.Errorf("unknown operation %q: use one of %s, or %s", op, quoteList(Ops()), Transparent)
	case s.Local:
		return "", fmt.Errorf("%s is a local operation: it has no endpoint", op)
	}
	return s.Path, nil
}

// URL returns the URL of op's endpoint, found beside textToImageURL (the
// value of IMAGINE_API_URL, or the vendor's default): its trailing
// "/image/generations" replaced by the endpoint's path, scheme, host and
// query kept. A URL whose path does not end so is an error that says what
// to set; errors show the URL without user information or query.
func URL(textToImageURL, op string) (string, error) {
	p, err := Path(op)
	if err != nil {
		return "", err
	}
	u, err := url.Parse(textToImageURL)
	if err != nil {
		return "", fmt.Errorf("IMAGINE_API_URL is not a URL (%s): set it to the text-to-image endpoint, ending in %s", urlError(err), GenerationsPath)
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return "", fmt.Errorf("IMAGINE_API_URL %s is not an http(s) URL with a host: set it to the text-to-image endpoint, ending in %s", shown(u), GenerationsPath)
	}
	if u.Fragment != "" || u.RawFragment != "" {
		return "", fmt.Errorf("IMAGINE_API_URL %s has a #fragment: remove it", shown(u))
	}
	base, ok := strings.CutSuffix(u.Path, GenerationsPath)
	if !ok {
		return "", fmt.Errorf("IMAGINE_API_URL %s does not end in %s, so the %s endpoint (%s) cannot be found beside it: set IMAGINE_API_URL to the text-to-image endpoint (https://HOST/v2%s), and serve the other endpoints beside it", shown(u), GenerationsPath, op, p, GenerationsPath)
	}
	v := *u
	v.Path = base + p
	v.RawPath = ""
	if rawBase, ok := strings.CutSuffix(u.RawPath, GenerationsPath); ok && u.RawPath != "" {
		v.RawPath = rawBase + p // kept only if it still encodes Path
	}
	return v.String(), nil
}

// shown is u for a message: no user information, no query, no fragment.
func shown(u *url.URL) string {
	if u.Scheme == "" && u.Host == "" {
		return "(without scheme and host)"
	}
	v := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	return v.String()
}

// urlError is the reason of a parse error, without the URL it quotes
// (whose query or user information may hold a secret).
func urlError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return "malformed"
}

// FieldError is a field of a Request that its operation requires, does
// not take, or that holds a bad value. Field names the form field
// ("prompt", "image", "mask", "seed", "aspect_ratio"; "image" is a derived
// image's `from`); Problem reads after "OP: " and names no location, so
// that a caller can attach the range of that field.
type FieldError struct {
	Op      string
	Field   string
	Problem string
}

func (e *FieldError) Error() string { return e.Op + ": " + e.Problem }

// Check reports the first field of r that its operation's endpoint
// requires and r lacks, that the endpoint does not take and r sets, or
// that holds a value the endpoint refuses: a prompt that is blank, an
// image or mask that is not a PNG or JPEG, a mask of other dimensions than
// the image, a seed outside 1..providers.MaxSeed, an aspect ratio not in
// AspectRatios. Errors are *FieldError, except for an unknown or local Op.
func (r Request) Check() error {
	s, ok := Lookup(r.Op)
	if !ok || s.Local {
		_, err := Path(r.Op)
		return err
	}
	bad := func(field, format string, args ...any) error {
		return &FieldError{Op: r.Op, Field: field, Problem: fmt.Sprintf(format, args...)}
	}
	switch {
	case s.Prompt && strings.TrimSpace(r.Prompt) == "":
		return bad("prompt", "a prompt is required (%s)", promptWhy(r.Op))
	case !s.Prompt && r.Prompt != "":
		return bad("prompt", "takes no prompt: the %s endpoint has none; remove it", s.Title)
	case s.Image && len(r.Image) == 0:
		return bad("image", "a source image is required (from)")
	case !s.Image && len(r.Image) != 0:
		return bad("image", "takes no source image")
	case s.Mask && len(r.Mask) == 0:
		return bad("mask", "a mask is required (a PNG or JPEG of the image's size, white where to fill)")
	case !s.Mask && len(r.Mask) != 0:
		return bad("mask", "takes no mask: only %s does", GenerativeFill)
	case !s.Seed && r.Seed != 0:
		return bad("seed", "takes no seed: the %s endpoint has none; remove it", s.Title)
	case r.Seed < 0 || r.Seed > providers.MaxSeed:
		return bad("seed", "seed %d is out of range: use an integer from 1 to %d", r.Seed, int64(providers.MaxSeed))
	case !s.AspectRatio && r.AspectRatio != "":
		return bad("aspect_ratio", "takes no aspect_ratio: the output has the source's shape")
	case r.AspectRatio != "" && !slices.Contains(AspectRatios(), r.AspectRatio):
		return bad("aspect_ratio", "aspect ratio %q is not one the %s endpoint accepts: use one of %s", r.AspectRatio, s.Title, quoteList(AspectRatios()))
	}
	if !s.Image {
		return nil
	}
	iw, ih, err := dimensions(r.Image)
	if err != nil {
		return bad("image", "the source image %s", err)
	}
	if !s.Mask {
		return nil
	}
	mw, mh, err := dimensions(r.Mask)
	if err != nil {
		return bad("mask", "the mask %s", err)
	}
	if mw != iw || mh != ih {
		return bad("mask", "the mask is %d×%d but the image is %d×%d: the endpoint needs a mask of the image's dimensions", mw, mh, iw, ih)
	}
	return nil
}

// promptWhy says what an operation's prompt describes.
func promptWhy(op string) string {
	switch op {
	case GenerativeFill:
		return "what to paint into the masked region"
	case AIBackground:
		return "the background to put behind the subject"
	}
	return "what to draw"
}

// dimensions reads the width and height from an encoded PNG or JPEG's
// header, without decoding its pixels.
func dimensions(data []byte) (int, int, error) {
	switch media.Sniff(data) {
	case media.PNG:
		c, err := png.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return 0, 0, fmt.Errorf("is not a readable PNG (%v)", err)
		}
		return c.Width, c.Height, nil
	case media.JPEG:
		c, err := jpeg.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return 0, 0, fmt.Errorf("is not a readable JPEG (%v)", err)
		}
		return c.Width, c.Height, nil
	}
	return 0, 0, fmt.Errorf("is neither a PNG nor a JPEG")
}

// Dimensions returns the width and height of an encoded PNG or JPEG, read
// from its header only; anything else is an error.
func Dimensions(data []byte) (width, height int, err error) { return dimensions(data) }

func quoteList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
