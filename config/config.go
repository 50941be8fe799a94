package config

import (
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/internal/safepath"
)

// Defaults of the provider block and of images.
const (
	DefaultStyle       = "flux-dev"
	DefaultAspectRatio = "1:1"
	DefaultParallelism = 4
	DefaultTimeout     = 120 * time.Second
	DefaultMaxRetries  = 8
	// MaxImagePixelsLimit is the most that max_image_pixels can be:
	// 16384×16384, 1 GiB and more once decoded.
	MaxImagePixelsLimit = 16384 * 16384
	// MaxImageBytesLimit is the most that max_image_bytes can be: 1 GiB,
	// twenty times the default, so that a configuration from a pull
	// request cannot lift the body cap arbitrarily.
	MaxImageBytesLimit = 1 << 30
)

// MaxCandidates is the most takes an image may ask for (candidates).
const MaxCandidates = 16

// AspectRatios lists the accepted aspect ratios, in the vendor's order.
var AspectRatios = []string{"1:1", "3:2", "4:3", "3:4", "16:9", "9:16"}

// Styles lists the accepted styles.
var Styles = []string{"flux-dev", "flux-dev-fast", "flux-schnell", "imagine-turbo", "realistic", "anime", "sdxl-1.0"}

// Image is one declared image instance, fully evaluated.
type Image struct {
	Addr        addrs.Addr
	Prompt      string
	AspectRatio string // one of AspectRatios
	Style       string // one of Styles; the provider default filled in
	Seed        int64  // 1..MaxSeed, or 0 when the configuration leaves it out
	Path        string // slash-separated, clean, relative to the working directory
	// Candidates is how many takes to render, 1..MaxCandidates, or 0
	// when the configuration leaves it out (one).
	Candidates int
	// OnDisk says that something was at Path when Load ran: Load stats
	// every path for its symlink check anyway, so the planner's "overwrites
	// an untracked file" needs no second stat. Not part of Digest.
	OnDisk    bool
	DeclRange hcl.Range

	// A derived image (Derived) is made from another image, From, or from
	// a checked-in file, FromFile: by an edit endpoint, Operation (one of
	// Operations; Prompt, Mask and Seed as it takes them), or here, by
	// Resize, Crop and Quality when Operation is "". Style and AspectRatio
	// are then "".
	From      addrs.Addr
	FromFile  string // slash-separated, clean, relative
	Operation string
	Mask      string // generative-fill's mask file, white where to fill
	Resize    Resize
	Crop      string // an aspect ratio such as "16:9"
	Quality   int    // JPEG quality 1..100 of a local edit; 0 for the default
	// Transparent renders a text-to-image with a transparent background
	// (Style is then "").
	Transparent bool
	// MaskWidth and MaskHeight are the mask's dimensions as its header
	// says when Load read it; 0 when unknown. Not part of Digest: the
	// planner compares them with the source's.
	MaskWidth, MaskHeight int

	derive *deriveRanges // for Load's diagnostics only
}

// Provider is the evaluated provider "imagine" block, defaults filled in.
type Provider struct {
	Style       string
	Parallelism int
	Timeout     time.Duration
	MaxRetries  int
	// ReadIdleTimeout, MaxImageBytes and MaxImagePixels bound what a
	// response may do (stall, stream, declare); zero means the client's
	// default, so that a block without them is as before.
	ReadIdleTimeout time.Duration
	MaxImageBytes   int64
	MaxImagePixels  int64
	// Prices are the credits of one request to each edit endpoint, in the
	// order of PricedOperations, as the vendor does not publish them; the
	// zero Price is unpriced. See Price.
	Prices [len(pricedOperations)]Price
}

// Price is a price the provider block sets.
type Price struct {
	Credits int
	Set     bool
}

// Config is a loaded, evaluated and validated working directory.
type Config struct {
	Dir      string
	Images   []Image // sorted by addrs.Addr
	Provider Provider
	// Store is the store block's, or nil when there is none. It is not
	// part of Digest: which store serves a plan does not change it.
	Store *Store
	// Files holds every parsed file by name, for the diagnostic writer:
	// its Bytes and a Nav that names the top-level block holding an
	// offset. Load drops the syntax trees (the Body is empty), which held
	// most of a large configuration's memory.
	Files map[string]*hcl.File
	// Digest is the hex SHA-256 of the evaluated configuration (images and
	// provider settings), stable across formatting-only edits. A saved plan
	// records it.
	Digest string
}

// LoadOptions are the inputs of Load beside the directory's own files.
type LoadOptions struct {
	// Vars are -var flag values, "name=value", in command-line order.
	Vars []string
	// VarFiles are -var-file paths, relative to the working directory or absolute.
	VarFiles []string
	// VarFilesFromPlan says that VarFiles come from a saved plan, which
	// anyone could have made (a CI artifact): each is read only inside
	// the working directory, never outside it.
	VarFilesFromPlan bool
	// Environ is the process environment ("K=V"); PIXFORM_VAR_<name> entries set variables.
	Environ []string
	// Stats, when not nil, makes the lstat of each image's path, which
	// Load checks for symbolic links, one that later checks of the same
	// run (the lockfile's paths, the stat cache) share. Without it, Load
	// makes them through a Stats of its own, as many at once.
	Stats *safepath.Stats
	// NoDigest leaves Config.Digest empty, for a caller that records no
	// plan: the digest of a large configuration costs as much as a tenth
	// of loading it.
	NoDigest bool

	// lazyFrom overrides lazyFrom, for tests.
	lazyFrom int
	// generalOnly evaluates every attribute the general way (checkRefs,
	// then HCL), never constAttr's, for tests that compare the two.
	generalOnly bool
}
