package state

import "github.com/pixform/pixform/addrs"

// LockFileName is the lockfile's name inside the working directory.
const LockFileName = "pixform.lock.json"

// LockVersion is the only lockfile format version this build reads and writes.
const LockVersion = 1

// Inputs are everything a render depends on. Two renders with equal Inputs
// by the same provider are interchangeable; the content cache is keyed by
// Inputs.Digest.
type Inputs struct {
	Prompt      string `json:"prompt"`
	Style       string `json:"style"`
	AspectRatio string `json:"aspect_ratio"`
	Seed        int64  `json:"seed"`

	// The inputs of a derived image (one made from another image or a
	// file), and of a transparent one; each is written only when set, so
	// that other entries read and write as before. Prompt, Style,
	// AspectRatio and Seed are then what its operation takes ("" and 0
	// otherwise).

	// Operation is the edit endpoint's operation ("remove-background",
	// "upscale", "generative-fill", "ai-background"), or "" for a local
	// edit (Resize, Crop, a change of format).
	Operation string `json:"operation,omitempty"`
	// Source is what the image is made from: an image's address
	// ("image.hero") or a checked-in file's path.
	Source string `json:"source,omitempty"`
	// SourceSHA256 is the hex SHA-256 of the source's bytes.
	SourceSHA256 string `json:"source_sha256,omitempty"`
	// Mask is generative-fill's mask file, MaskSHA256 the hash of its bytes.
	Mask       string `json:"mask,omitempty"`
	MaskSHA256 string `json:"mask_sha256,omitempty"`
	// Transparent is a text-to-image render with a transparent background.
	Transparent bool `json:"transparent,omitempty"`
	// Resize is a local resize, "WxH" with 0 for the side that keeps the
	// ratio, and " FIT" when both are set: "640x0", "640x480 cover".
	Resize string `json:"resize,omitempty"`
	// Crop is a local centred crop to an aspect ratio, "16:9".
	Crop string `json:"crop,omitempty"`
	// Quality is the JPEG quality of a local edit, 0 for the default.
	Quality int `json:"quality,omitempty"`
}

// Derived reports whether the inputs are those of an image made from
// another image or a file.
func (in Inputs) Derived() bool { return in.Source != "" }

// Entry is what the lockfile records of one image.
type Entry struct {
	Inputs    Inputs `json:"inputs"`
	Provider  string `json:"provider"` // "imagine" or "draft"
	Path      string `json:"path"`     // slash-separated, relative
	SHA256    string `json:"sha256"`   // lower-case hex of the file's bytes
	Bytes     int64  `json:"bytes"`
	MediaType string `json:"media_type"` // "image/png" or "image/jpeg"
	Width     int    `json:"width"`
	Height    int    `json:"height"`
}

// Lock is the parsed lockfile: entries keyed by address. The lockfile's
// JSON keys are the addresses' strings (addrs.Addr.String()).
type Lock struct {
	Images map[addrs.Addr]Entry
}
