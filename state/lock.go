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
}

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
