package planner

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/hashicorp/hcl/v2"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/edits"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

// Endpoints a change may cost a request of, beside the edit operations
// (edits.Ops) and edits.Transparent.
const (
	// EndpointTextToImage is the text-to-image endpoint.
	EndpointTextToImage = "text-to-image"
	// EndpointLocal is no endpoint: a local resize, crop or change of
	// format, made without a request.
	EndpointLocal = "local"
)

// ResizeString is how the lockfile records a resize: "WxH", 0 for the
// side that keeps the ratio, then " FIT" when both are set; "" for none.
func ResizeString(r config.Resize) string {
	if r.IsZero() {
		return ""
	}
	s := strconv.Itoa(r.Width) + "x" + strconv.Itoa(r.Height)
	if r.Fit != "" {
		s += " " + r.Fit
	}
	return s
}

// Endpoint names what renders an image of these inputs: an edit
// operation (edits.RemoveBackground, ...), edits.Transparent,
// EndpointLocal or EndpointTextToImage.
func Endpoint(in state.Inputs) string {
	switch {
	case in.Transparent:
		return edits.Transparent
	case in.Derived() && in.Operation == "":
		return EndpointLocal
	case in.Derived():
		return in.Operation
	}
	return EndpointTextToImage
}

// selection returns which images of the configuration the plan covers:
// all without -target; else the targeted ones and, transitively, the
// images they are made from, since a derived image is made from its
// source's render of this run.
func (p *planning) selection() []bool {
	in := p.in
	sel := make([]bool, len(in.Images))
	if len(in.Targets) == 0 {
		for i := range sel {
			sel[i] = true
		}
		return sel
	}
	for i := range in.Images {
		if sel[i] || !matchesAny(in.Images[i].Addr, in.Targets) {
			continue
		}
		for j, ok := i, true; ok && !sel[j]; {
			sel[j] = true
			j, ok = p.index[in.Images[j].From]
		}
	}
	return sel
}

// changeAt returns the change of in.Images[i], planning it (and first the
// image it is made from) on first use.
func (p *planning) changeAt(i int) *Change {
	switch p.state[i] {
	case stateDone:
		return &p.changes[i]
	case stateBusy:
		// A cycle, which config.Load refuses with its place in the
		// configuration; a caller that builds images itself hears it here.
		a := p.in.Images[i].Addr
		p.diags = append(p.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("%s is made from itself", a),
			Detail:   fmt.Sprintf("The images made from each other lead back to %s. An image cannot be made from itself; make one of them from a prompt or a file.", a),
		})
		return &Change{Addr: a}
	}
	p.state[i] = stateBusy
	img := &p.in.Images[i]
	var src *Change
	if j, ok := p.index[img.From]; ok && !img.From.IsZero() {
		src = p.changeAt(j)
	}
	p.changes[i] = p.change(img, src)
	p.sourceRenamed(&p.changes[i])
	p.state[i] = stateDone
	return &p.changes[i]
}

// Planning states of an image.
const (
	stateNew = iota
	stateBusy
	stateDone
)

// deriveInputs fills in the inputs of a derived or transparent image:
// its fields, and the hashes of its source and mask. src is the change of
// the image it is made from (nil for a file). A source restored from the
// content cache or the image store has known bytes (a candidates image's,
// those of the take apply places at its path). When the source will
// change and its bytes cannot be known before apply, the source hash
// stays empty and c.AfterApply says why.
func (p *planning) deriveInputs(img *config.Image, src *Change, c *Change) {
	in := &c.Inputs
	in.Transparent = img.Transparent
	if !img.Derived() {
		return
	}
	in.Operation, in.Source, in.Mask = img.Operation, img.Source(), img.Mask
	in.Resize, in.Crop, in.Quality = ResizeString(img.Resize), img.Crop, img.Quality
	switch {
	case src != nil:
		switch src.Action {
		case Create, Replace:
			if sum, ok := p.restoredSHA256(src); ok {
				in.SourceSHA256 = sum
				break
			}
			verb := "created"
			if src.Action == Replace {
				verb = "replaced"
			}
			c.AfterApply = fmt.Sprintf("%s is %s", src.Addr, verb)
		default:
			if src.Prior != nil {
				in.SourceSHA256 = src.Prior.SHA256
			}
		}
	case img.FromFile != "":
		in.SourceSHA256 = p.fileSHA256(img.FromFile, img.Addr, "from")
	}
	if img.Mask != "" {
		in.MaskSHA256 = p.fileSHA256(img.Mask, img.Addr, "mask")
		p.checkMaskSize(img, src)
	}
}

// checkMaskSize refuses a mask of other dimensions than the image it
// masks when both are known before apply: the source is kept (its
// recorded size) and the mask's header was read. The endpoint would
// refuse it, after the request.
func (p *planning) checkMaskSize(img *config.Image, src *Change) {
	if src == nil || src.Prior == nil || (src.Action != NoOp && src.Action != Move) || img.MaskWidth == 0 {
		return
	}
	w, h := src.Prior.Width, src.Prior.Height
	if w == img.MaskWidth && h == img.MaskHeight {
		return
	}
	p.diags = append(p.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("%s: mask of other dimensions", img.Addr),
		Detail: fmt.Sprintf("mask %s is %d×%d pixels and %s, which %s is made from, is %d×%d: generative-fill needs a mask of the same dimensions as its image. Resize the mask.",
			img.Mask, img.MaskWidth, img.MaskHeight, src.Addr, img.Addr, w, h),
		Subject: img.DeclRange.Ptr(),
	})
}

// RestoredSHA256 returns the hash of the bytes that apply places at the
// path of c, a Create or Replace restored with no request, as planning
// gives it to an image made from c (restoredSHA256), for a saved plan's
// check: in's Provider, Cached, CachedSHA256 and Stored are asked.
func RestoredSHA256(in Input, c *Change) (string, bool) {
	p := &planning{in: in}
	return p.restoredSHA256(c)
}

// restoredSHA256 returns the hash of the bytes that apply places at the
// path of c, when c is restored with no request and they are known: the
// take placed of a candidates image, else the content cache's copy, else
// the image store's object.
func (p *planning) restoredSHA256(c *Change) (string, bool) {
	if c.Inputs.Candidates > 1 {
		if sum, ok := p.placedTakeSHA256(c); ok {
			return sum, true
		}
	} else if sum, ok := p.cachedSHA256(c); ok {
		return sum, true
	}
	return storedSHA256(c)
}

// cachedSHA256 returns the hash of the bytes that a change restored from
// the content cache will write, when the cache says.
func (p *planning) cachedSHA256(c *Change) (string, bool) {
	if !c.FromCache || p.in.CachedSHA256 == nil {
		return "", false
	}
	return p.in.CachedSHA256(c.Inputs.Digest(), p.in.Provider)
}

// storedSHA256 returns the hash of the bytes that a change restored from
// the image store will write: the object it names, verified against that
// hash as it is downloaded. A candidates image is left out: its object is
// one take, not always the one placed at its path (placedTakeSHA256).
func storedSHA256(c *Change) (string, bool) {
	if !c.FromStore || c.StoreSHA256 == "" || c.Inputs.Candidates > 1 {
		return "", false
	}
	return c.StoreSHA256, true
}

// fileSHA256 returns the hash of a checked-in file an image is made from,
// reporting a file that is not there.
func (p *planning) fileSHA256(path string, addr addrs.Addr, attr string) string {
	f := p.in.Facts[path]
	if !f.Exists || f.SHA256 == "" {
		p.diags = append(p.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("%s: %s file %s cannot be read", addr, attr, path),
			Detail:   fmt.Sprintf("%s is made from %s, which is not a regular file in the working directory. Check it in at that path, or correct %s.", addr, path, attr),
		})
		return ""
	}
	return f.SHA256
}

// sameSourceBytes reports whether new is made from a source of another
// name (an address or a file path) that holds the bytes old was made
// from: the digest keys the source by its hash, so the recorded render is
// still the render of new.
func sameSourceBytes(old, new state.Inputs) bool {
	return old.Source != new.Source && old.Derived() && new.Derived() &&
		new.SourceSHA256 != "" && old.SourceSHA256 == new.SourceSHA256
}

// sourceRenamed words a change of a derived image whose `from` now names
// another image or file with the bytes it was made from (a rename or a
// `moved` source, a git mv of the file, or an image of identical bytes):
// no request, and the lockfile's record of the source follows the
// configuration. A change kept otherwise becomes a Move in place, which
// apply records without touching the file; one that apply replaces or
// moves anyway records the new source with it.
func (p *planning) sourceRenamed(c *Change) {
	if c.Prior == nil || c.AfterApply != "" || !sameSourceBytes(c.Prior.Inputs, c.Inputs) {
		return
	}
	switch c.Action {
	case NoOp:
		f := p.in.Facts[c.Prior.Path]
		if c.Path != c.Prior.Path || !f.Exists || f.SHA256 != c.Prior.SHA256 {
			// A file that drifted is left as the plan found it.
			return
		}
		c.Action = Move
	case Move, Replace:
	default:
		return
	}
	r := fmt.Sprintf("from changed: %s → %s, which holds the same bytes (sha256 %s)",
		quoteOrNone(c.Prior.Inputs.Source), quoteOrNone(c.Inputs.Source), shortSum(c.Inputs.SourceSHA256))
	if c.Action == Move {
		r += ": the recorded render is kept, no request"
	}
	c.Reasons = append(c.Reasons, r)
}

// shortSum is the first 12 hex digits of a SHA-256, as plans show them.
func shortSum(sum string) string {
	if len(sum) > 12 {
		return sum[:12]
	}
	return sum
}

// needsSeed reports whether the image's endpoint takes a seed, which
// pixform then picks and pins when the configuration leaves it out.
func needsSeed(img *config.Image) bool {
	if !img.Derived() {
		return true
	}
	seed, _ := edits.Accepts(img.Operation)
	return img.Operation != "" && seed
}

// NeedsSeed reports whether img's render takes a seed: a text-to-image
// render, or an edit whose endpoint takes one. A saved plan's check asks.
func NeedsSeed(img *config.Image) bool { return needsSeed(img) }

// derivedChanges says, for people, how a derived image's inputs changed;
// the hashes say that the source or mask changed on disk or in this plan.
func derivedChanges(old, new state.Inputs) []string {
	var r []string
	str := func(name, o, n string) {
		if o != n {
			r = append(r, fmt.Sprintf("%s changed: %s → %s", name, quoteOrNone(o), quoteOrNone(n)))
		}
	}
	str("operation", old.Operation, new.Operation)
	if !sameSourceBytes(old, new) {
		str("from", old.Source, new.Source)
	}
	if old.Source == new.Source && old.SourceSHA256 != new.SourceSHA256 && new.SourceSHA256 != "" {
		if _, isAddr := new.SourceAddr(); isAddr {
			r = append(r, fmt.Sprintf("%s changed since this image was made from it", new.Source))
		} else {
			r = append(r, fmt.Sprintf("%s changed on disk", new.Source))
		}
	}
	str("mask", old.Mask, new.Mask)
	if old.Mask == new.Mask && old.MaskSHA256 != new.MaskSHA256 && new.Mask != "" {
		r = append(r, fmt.Sprintf("mask %s changed on disk", new.Mask))
	}
	str("resize", old.Resize, new.Resize)
	str("crop", old.Crop, new.Crop)
	if old.Quality != new.Quality {
		r = append(r, fmt.Sprintf("quality changed: %d → %d", old.Quality, new.Quality))
	}
	if old.Transparent != new.Transparent {
		r = append(r, fmt.Sprintf("transparent changed: %t → %t", old.Transparent, new.Transparent))
	}
	return r
}

func quoteOrNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return strconv.Quote(s)
}

// priceOf fills in the requests and credits of a change that is requested.
func (p *planning) priceOf(c *Change) {
	ep := Endpoint(c.Inputs)
	switch {
	case ep == EndpointLocal || p.in.Provider != providers.Imagine:
		return
	case ep == EndpointTextToImage:
		c.Requests = 1
		c.Credits, c.CreditsKnown = Price(c.Inputs.Style)
	default:
		c.Requests = 1
		c.Credits, c.CreditsKnown = p.in.Prices[ep]
	}
}

// EndpointCost is what a plan spends on one endpoint.
type EndpointCost struct {
	Endpoint string // EndpointTextToImage, an operation or edits.Transparent
	Requests int
	// Credits adds up the priced requests; Unpriced counts the others.
	Credits, Unpriced int
}

// CostByEndpoint adds up the requests and credits of changes per
// endpoint, text-to-image first, then the others by name.
func CostByEndpoint(changes []Change) []EndpointCost {
	var out []EndpointCost
	blocked := Blocked(changes)
	for i := range changes {
		c := &changes[i]
		if c.Requests == 0 || c.Occupied || blocked[c.Addr.String()] {
			continue // no request, or refused before it
		}
		ep := Endpoint(c.Inputs)
		k := slices.IndexFunc(out, func(e EndpointCost) bool { return e.Endpoint == ep })
		if k < 0 {
			out = append(out, EndpointCost{Endpoint: ep})
			k = len(out) - 1
		}
		out[k].Requests += c.Requests
		if c.CreditsKnown {
			out[k].Credits += c.Credits
		} else {
			out[k].Unpriced += c.Requests
		}
	}
	slices.SortFunc(out, func(a, b EndpointCost) int {
		switch {
		case a.Endpoint == b.Endpoint:
			return 0
		case a.Endpoint == EndpointTextToImage:
			return -1
		case b.Endpoint == EndpointTextToImage:
			return 1
		case a.Endpoint < b.Endpoint:
			return -1
		}
		return 1
	})
	return out
}
