package executor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/edits"
	"github.com/pixform/pixform/imaging"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

// Editor is a Provider that also serves the vendor's edit endpoints
// (edits.Request): the derived images' operations and the transparent
// text-to-image. Edit has Render's contract.
type Editor interface {
	Edit(ctx context.Context, req edits.Request, w io.Writer) error
}

// RequestEditor is an Editor that is also told which image an edit is for
// and with which inputs (req, as Render gets it): watch cancels an edit
// that a newer save made obsolete. The executor calls EditFor rather than
// Edit when its provider has it; EditFor has Edit's contract.
type RequestEditor interface {
	EditFor(ctx context.Context, req Request, er edits.Request, w io.Writer) error
}

// MaxSourceBytes is the most bytes of a source image or mask that a
// derived image reads.
const MaxSourceBytes = 256 << 20

// movedFrom returns the record a move carries to its new address or path.
// A derived image whose source has a new name but the same bytes (the
// plan checked: same digest) is recorded with the name its configuration
// now gives, so the lockfile says what it is made from.
func movedFrom(c *planner.Change) state.Prior {
	p := *prior(c)
	if in := &p.Entry.Inputs; in.Derived() && c.Inputs.Derived() && in.Source != c.Inputs.Source && in.Digest() == c.Inputs.Digest() {
		in.Source = c.Inputs.Source
	}
	return p
}

// graph is the order of the renders of a plan: an image made from another
// that the plan renders (a dependent) starts once that one is recorded.
type graph struct {
	// dependents lists, for each render's address, the renders made from it.
	dependents map[addrs.Addr][]*planner.Change
	// changes are the plan's, and order their positions in address
	// order (nil when the plan is in address order, as the planner makes
	// it): change finds any change of the plan by binary search, to locate
	// a source the plan keeps or moves, with no map of every change.
	changes []planner.Change
	order   []int32

	mu sync.Mutex
	// recorded holds each render's entry once it is on disk and recorded.
	recorded map[addrs.Addr]state.Entry
	wg       sync.WaitGroup // the dependents started
}

func newGraph(plan *planner.Plan) *graph {
	g := &graph{
		dependents: map[addrs.Addr][]*planner.Change{},
		changes:    plan.Changes,
		recorded:   map[addrs.Addr]state.Entry{},
	}
	byAddr := func(a, b planner.Change) int { return a.Addr.Compare(b.Addr) }
	if !slices.IsSortedFunc(plan.Changes, byAddr) {
		g.order = make([]int32, len(plan.Changes))
		for i := range g.order {
			g.order[i] = int32(i)
		}
		slices.SortStableFunc(g.order, func(i, j int32) int { return byAddr(plan.Changes[i], plan.Changes[j]) })
	}
	return g
}

// at is the change at position i in address order.
func (g *graph) at(i int) *planner.Change {
	if g.order != nil {
		return &g.changes[g.order[i]]
	}
	return &g.changes[i]
}

// change returns the plan's change of a, or nil. Should the plan hold
// more than one, it is the last in plan order, as a map filled in plan
// order would keep.
func (g *graph) change(a addrs.Addr) *planner.Change {
	i := sort.Search(len(g.changes), func(i int) bool { return g.at(i).Addr.Compare(a) > 0 })
	if i == 0 || g.at(i-1).Addr.Compare(a) != 0 {
		return nil
	}
	return g.at(i - 1)
}

// rendering reports whether the plan creates or replaces a. It reads
// the plan's changes (change): no second set keyed by address.
func (g *graph) rendering(a addrs.Addr) bool {
	c := g.change(a)
	return c != nil && (c.Action == planner.Create || c.Action == planner.Replace)
}

// split returns the renders that can start at once (roots), recording
// the others as dependents of their sources.
func (g *graph) split(renders []*planner.Change) (roots []*planner.Change) {
	for _, c := range renders {
		if src, ok := c.Inputs.SourceAddr(); ok && g.rendering(src) {
			g.dependents[src] = append(g.dependents[src], c)
			continue
		}
		roots = append(roots, c)
	}
	return roots
}

// recordDone notes that c is on disk and recorded as e.
func (g *graph) recordDone(c *planner.Change, e state.Entry) {
	// Only a source's entry is read again (by what is made from it): an
	// apply of many images keeps no copy of every entry. dependents is
	// complete before the first render starts, and only read after.
	if !g.rendering(c.Addr) || len(g.dependents[c.Addr]) == 0 {
		return
	}
	g.mu.Lock()
	g.recorded[c.Addr] = e
	g.mu.Unlock()
}

func (g *graph) entry(a addrs.Addr) (state.Entry, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	e, ok := g.recorded[a]
	return e, ok
}

// settle starts the dependents of c, which has finished: each in its own
// goroutine once c is recorded; when c is not, they are skipped with the
// reason, and theirs after them.
func (r *run) settle(ctx context.Context, c *planner.Change) {
	r.vac.finish(c, false, false) // skipped, unless it was done or failed
	deps := r.graph.dependents[c.Addr]
	if len(deps) == 0 {
		return
	}
	if _, ok := r.graph.entry(c.Addr); !ok {
		for _, d := range deps {
			if !r.stopping() {
				r.hooks.Warn(d, fmt.Sprintf("not made: it is made from %s, which was not made", c.Addr))
			}
			r.skip(1)
			r.settle(ctx, d)
		}
		return
	}
	for _, d := range deps {
		r.graph.wg.Go(func() {
			r.render(ctx, d, false)
			r.settle(ctx, d)
		})
	}
}

// source locates what a derived image is made from: its path and the
// hash its bytes must have. A source that this run rendered is read as
// recorded; one that the plan keeps or moves, at its path; a file, as
// the plan hashed it. It completes c's inputs with the recorded hash,
// and reports whether it changed them.
func (r *run) source(c *planner.Change) (path, sum string, changed bool, err error) {
	in := &c.Inputs
	src, isAddr := in.SourceAddr()
	switch {
	case !isAddr:
		return in.Source, in.SourceSHA256, false, nil
	case r.graph.rendering(src):
		e, ok := r.graph.entry(src)
		if !ok {
			return "", "", false, fmt.Errorf("%s is not recorded (internal error)", src)
		}
		if in.SourceSHA256 != e.SHA256 {
			in.SourceSHA256 = e.SHA256
			changed = true
		}
		return e.Path, e.SHA256, changed, nil
	}
	sc := r.graph.change(src)
	if sc == nil || sc.Action == planner.Delete {
		return "", "", false, &Error{Class: Invalid, Msg: fmt.Sprintf("%s is made from %s, which this plan does not hold: plan again", c.Addr, src)}
	}
	return sc.Path, in.SourceSHA256, false, nil
}

// madeBy is the provider a local edit c records: the one that made the
// bytes of its source, since the edit sends no request and makes the
// same bytes in any run. A local edit of an Imagine render made in a
// draft run is no draft (a later imagine run would make it again for
// nothing, and plan -check would call it a draft), and one of a draft
// render made in an imagine run is one. A checked-in file is no draft.
func (r *run) madeBy(c *planner.Change) string {
	src, isAddr := c.Inputs.SourceAddr()
	switch {
	case !isAddr:
		return providers.Imagine
	case r.graph.rendering(src):
		if e, ok := r.graph.entry(src); ok {
			return e.Provider
		}
	default:
		if sc := r.graph.change(src); sc != nil && sc.Prior != nil {
			return sc.Prior.Provider
		}
	}
	return r.provider
}

// resolve completes the inputs of a derived image c with its source's
// hash, once the source is recorded, and returns where its source is.
// When the hash became known only now, the content cache is asked again:
// c is restored from it when it holds the image.
func (r *run) resolve(c *planner.Change) (path, sum string, err error) {
	path, sum, changed, err := r.source(c)
	if err != nil {
		return "", "", err
	}
	if changed {
		// What the plan restores was made from other bytes: the store's
		// object too (c.StoreSHA256 was looked up for the planned inputs).
		c.FromStore = false
		c.FromCache = !c.Forced && r.opts.Cache != nil && r.provider != providers.Draft && r.opts.Cache.Has(c.Inputs.Digest(), r.provider)
	}
	return path, sum, nil
}

// readSource reads the source at path (and c's mask) into req, verified
// against their hashes.
func (r *run) readSource(c *planner.Change, path, sum string, req *Request) error {
	var err error
	if req.SourceBytes, err = state.ReadVerified(r.opts.Dir, path, sum, MaxSourceBytes); err != nil {
		return &Error{Class: Invalid, Msg: fmt.Sprintf("cannot read the source of %s: %v; plan again", c.Addr, err), Err: err}
	}
	if c.Inputs.Mask != "" {
		if req.MaskBytes, err = state.ReadVerified(r.opts.Dir, c.Inputs.Mask, c.Inputs.MaskSHA256, MaxSourceBytes); err != nil {
			return &Error{Class: Invalid, Msg: fmt.Sprintf("cannot read the mask of %s: %v; plan again", c.Addr, err), Err: err}
		}
	}
	return nil
}

// send asks the provider for req's image: text-to-image through Render,
// an edit or a transparent image through Edit.
func (r *run) send(ctx context.Context, req Request, w io.Writer) error {
	ep := planner.Endpoint(req.Inputs)
	if ep == planner.EndpointTextToImage {
		return r.opts.Provider.Render(ctx, req, w)
	}
	ed, ok := r.opts.Provider.(Editor)
	if !ok {
		return &Error{Class: Fatal, Msg: fmt.Sprintf("the %s provider cannot make %s images", r.provider, ep)}
	}
	er := edits.Request{Op: req.Operation, Prompt: req.Prompt, Seed: req.Seed, Image: req.SourceBytes, Mask: req.MaskBytes, Addr: req.Addr.String()}
	if req.Transparent {
		er.Op, er.AspectRatio, er.Image = edits.Transparent, req.AspectRatio, nil
	}
	if re, ok := ed.(RequestEditor); ok {
		return re.EditFor(ctx, req, er, w)
	}
	return ed.Edit(ctx, er, w)
}

// local makes a derived image here, without a request: it reads the
// source at srcPath (which must hash to srcSum), then crops, resizes and
// encodes it into c's format, in a temporary file beside c.Path. It
// reports failures itself, and whether it made the image; the caller holds
// a local slot (acquireLocal) and commits the image once it gave it back.
func (r *run) local(c *planner.Change, srcPath, srcSum string, req Request, mt string) (output, bool) {
	if r.stopping() {
		r.skip(1)
		return output{}, false
	}
	if err := r.readSource(c, srcPath, srcSum, &req); err != nil {
		r.fail(c, err)
		return output{}, false
	}
	img, err := decodeSource(req.SourceBytes)
	req.SourceBytes, req.MaskBytes = nil, nil
	if err == nil && c.Inputs.Crop != "" {
		img, err = imaging.Crop(img, c.Inputs.Crop)
	}
	if err == nil && c.Inputs.Resize != "" {
		w, h, fit, perr := parseResize(c.Inputs.Resize)
		if err = perr; err == nil {
			img, err = imaging.Resize(img, w, h, fit)
		}
	}
	if err != nil {
		r.fail(c, &Error{Class: Invalid, Msg: fmt.Sprintf("cannot make %s from %s: %v", c.Addr, c.Inputs.Source, err), Err: err})
		return output{}, false
	}
	tmp, err := r.store.CreateTemp(c.Path)
	if err != nil {
		r.stopLocal(c, &LocalError{Op: "create the temporary file of", Path: c.Path, Err: err})
		return output{}, false
	}
	lw := &localWriter{w: tmp, op: "write", path: c.Path}
	d := newDigestWriter()
	if err := imaging.Encode(io.MultiWriter(lw, d), img, mt, c.Inputs.Quality); err != nil {
		r.store.AbortTemp(tmp)
		if lw.err != nil {
			r.stopLocal(c, lw.err.(*LocalError))
			return output{}, false
		}
		r.fail(c, &Error{Class: Invalid, Msg: fmt.Sprintf("cannot encode %s: %v", c.Addr, err), Err: err})
		return output{}, false
	}
	out, err := finish(tmp, r.store.AbortTemp, r.abs(c.Path), mt, d, "the local edit of "+c.Addr.String())
	if err != nil {
		if le := (*LocalError)(nil); errors.As(localUnlessClassified(c.Path, err), &le) {
			r.stopLocal(c, le)
			return output{}, false
		}
		r.fail(c, err)
		return output{}, false
	}
	return out, true
}

// decodeSource decodes a source image, refusing one larger than
// MaxImagePixelsLimit before its pixels are decoded.
func decodeSource(b []byte) (image.Image, error) {
	head := b[:min(len(b), 12)]
	var decodeConfig func(io.Reader) (image.Config, error)
	var decode func(io.Reader) (image.Image, error)
	switch sniff(head) {
	case "png":
		decodeConfig, decode = png.DecodeConfig, png.Decode
	case "jpeg":
		decodeConfig, decode = jpeg.DecodeConfig, jpeg.Decode
	default:
		return nil, errors.New("the source is neither a PNG nor a JPEG image")
	}
	cfg, err := decodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("decode the source: %w", err)
	}
	if int64(cfg.Width)*int64(cfg.Height) > MaxImagePixelsLimit || cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("the source is %d×%d pixels, outside what pixform decodes", cfg.Width, cfg.Height)
	}
	return decode(bytes.NewReader(b))
}

// parseResize reads a resize as the lockfile records it ("640x0",
// "640x480 cover").
func parseResize(s string) (w, h int, fit string, err error) {
	size, fit, _ := strings.Cut(s, " ")
	ws, hs, ok := strings.Cut(size, "x")
	w, errW := strconv.Atoi(ws)
	h, errH := strconv.Atoi(hs)
	if !ok || errW != nil || errH != nil || w < 0 || h < 0 {
		return 0, 0, "", fmt.Errorf("resize %q is not WIDTHxHEIGHT", s)
	}
	return w, h, fit, nil
}
