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
	// Candidates is how many takes the image renders (seeds TakeSeeds),
	// 2..MaxCandidates, or 0 for one: a single render records none.
	Candidates int `json:"candidates,omitempty"`
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
	// Takes are the renders of a candidates image (Inputs.Candidates of
	// them, in TakeSeeds order), each kept in the content cache under
	// its own inputs (Inputs.Take); nil for a single render.
	Takes []Take `json:"takes,omitempty"`
	// Picked is the 1-based number of the take at Path once someone has
	// picked one; 0 means no pick yet, and the first take is at Path.
	Picked int `json:"picked,omitempty"`
	// Approved records a person's review of the bytes at Path; nil when
	// nobody approved them.
	Approved *Approval `json:"approved,omitempty"`
}

// Take is one render of a candidates image. MediaType, Width and Height
// are zero when they are the entry's (the common case: every take of an
// image has the same format and size), so that the lockfile stays short.
type Take struct {
	Seed      int64  `json:"seed"`
	SHA256    string `json:"sha256"`
	Bytes     int64  `json:"bytes"`
	MediaType string `json:"media_type,omitempty"`
	Width     int    `json:"width,omitempty"`
	Height    int    `json:"height,omitempty"`
}

// Approval is a review: who approved which bytes, when (RFC 3339, UTC).
type Approval struct {
	By     string `json:"by"`
	At     string `json:"at"`
	SHA256 string `json:"sha256"`
}

// Lock is the parsed lockfile: entries keyed by address. The lockfile's
// JSON keys are the addresses' strings (addrs.Addr.String()).
type Lock struct {
	Images map[addrs.Addr]Entry
}
