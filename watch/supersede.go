package watch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/edits"
	"github.com/pixform/pixform/executor"
	"github.com/pixform/pixform/media"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/state"
)

// ObsoleteIn reports whether a request no longer matches cfg: its image is
// gone, or its prompt, style, ratio or declared seed changed. A new path
// alone does not make a render obsolete (the next plan moves it).
func ObsoleteIn(cfg *config.Config) func(executor.Request) bool {
	return func(req executor.Request) bool {
		if req.Addr == (addrs.Addr{}) { // no address: nothing to compare
			return false
		}
		img, ok := cfg.Lookup(req.Addr)
		if !ok {
			return true
		}
		return !planner.InputsMatch(&img, req.Inputs)
	}
}

// ObsoleteAfter is ObsoleteIn for the requests of plan's run, and also
// reports obsolete the request of an image made from another that is
// obsolete: gone, or declared with other inputs than plan rendered or kept
// it with, at any depth of the chain. A new `from` that names an image of
// the bytes the request was made from (a rename) does not make it
// obsolete: the render is still the one wanted.
func ObsoleteAfter(cfg *config.Config, plan *planner.Plan) func(executor.Request) bool {
	changes := make(map[addrs.Addr]*planner.Change, len(plan.Changes))
	for i := range plan.Changes {
		if c := &plan.Changes[i]; c.Action != planner.Delete {
			changes[c.Addr] = c
		}
	}
	// kept returns the bytes' hash of an image the plan keeps as recorded.
	kept := func(a addrs.Addr) string {
		if c := changes[a]; c != nil && c.Prior != nil && (c.Action == planner.NoOp || c.Action == planner.Move) {
			return c.Prior.SHA256
		}
		return ""
	}
	matches := func(img *config.Image, in state.Inputs) bool {
		if src := img.Source(); src != in.Source && in.SourceSHA256 != "" {
			if !img.From.IsZero() && kept(img.From) == in.SourceSHA256 {
				in.Source = src
			}
		}
		return planner.InputsMatch(img, in)
	}
	return func(req executor.Request) bool {
		if req.Addr == (addrs.Addr{}) { // no address: nothing to compare
			return false
		}
		in := req.Inputs
		img, ok := cfg.Lookup(req.Addr)
		if !ok || !matches(&img, in) {
			return true
		}
		// Up the chain, as far as the plan knows it (a chain is shorter
		// than the plan: the bound only guards against a malformed one).
		for range len(changes) + 1 {
			c := changes[img.From]
			if img.From.IsZero() || c == nil {
				return false
			}
			if img, ok = cfg.Lookup(c.Addr); !ok || !matches(&img, c.Inputs) {
				return true
			}
		}
		return false
	}
}

// ErrSuperseded marks a render cancelled because a newer save made it
// obsolete.
var ErrSuperseded = errors.New("superseded by a newer save")

// Superseding wraps a run's provider so that watch can cancel one request
// without cancelling the run: each Render gets its own context, which
// Supersede cancels when the request becomes obsolete. The render then
// fails as Invalid (no retry), so the executor records nothing for it;
// one sent counts as paid (Paid), one refused before it as not sent
// (NotSent).
type Superseding struct {
	inner executor.Provider
	// Keep, when not nil, keeps a render that arrived whole after a save
	// superseded its request in the content cache under the request's own
	// inputs (not placed, not recorded): it is paid for, and a save back
	// to those inputs restores it with no request. It is kept from the
	// executor's temporary file (KeepBody), never held in memory.
	Keep executor.TakeKeeper

	mu       sync.Mutex
	inflight map[*flight]struct{}
	obsolete func(executor.Request) bool // latest save's test; nil before any
	n        int                         // renders superseded
	sent     int                         // of those, the ones superseded once sent
}

// flight is one Render in progress.
type flight struct {
	req        executor.Request
	cancel     context.CancelFunc
	superseded bool
}

var (
	_ executor.Provider      = (*Superseding)(nil)
	_ executor.Bounded       = (*Superseding)(nil)
	_ executor.Editor        = (*Superseding)(nil)
	_ executor.RequestEditor = (*Superseding)(nil)
	_ executor.BodyKeeper    = (*Superseding)(nil)
)

// NewSuperseding wraps inner.
func NewSuperseding(inner executor.Provider) *Superseding {
	return &Superseding{inner: inner, inflight: map[*flight]struct{}{}}
}

// Name is the wrapped provider's name.
func (p *Superseding) Name() string { return p.inner.Name() }

// ImageBounds states the wrapped provider's bounds, so that the executor
// checks a watch render's answer (its size and aspect ratio) as it checks
// apply's; a provider that states none gets the executor's defaults.
func (p *Superseding) ImageBounds() executor.ImageBounds {
	if b, ok := p.inner.(executor.Bounded); ok {
		return b.ImageBounds()
	}
	return executor.ImageBounds{}
}

// Render renders through the wrapped provider unless the request is, or
// becomes while in flight, obsolete.
func (p *Superseding) Render(ctx context.Context, req executor.Request, w io.Writer) error {
	return p.send(ctx, req, w, func(ctx context.Context, w io.Writer) error { return p.inner.Render(ctx, req, w) })
}

// EditFor makes the edit er of the image req through the wrapped
// provider, which must be an executor.Editor, unless the request is, or
// becomes while in flight, obsolete: a save changed the image's own
// fields or the image it is made from.
func (p *Superseding) EditFor(ctx context.Context, req executor.Request, er edits.Request, w io.Writer) error {
	ed, ok := p.inner.(executor.Editor)
	if !ok {
		return &executor.Error{Class: executor.Fatal, Msg: fmt.Sprintf("the %s provider cannot make %s images", p.inner.Name(), er.Op)}
	}
	return p.send(ctx, req, w, func(ctx context.Context, w io.Writer) error { return ed.Edit(ctx, er, w) })
}

// send runs do, one request of req writing to w, under a context of its
// own that Supersede cancels when req becomes obsolete.
func (p *Superseding) send(ctx context.Context, req executor.Request, w io.Writer, do func(context.Context, io.Writer) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f := &flight{req: req, cancel: cancel}
	p.mu.Lock()
	if p.obsolete != nil && p.obsolete(req) {
		p.n++
		p.mu.Unlock()
		return &executor.Error{Class: executor.Invalid, NotSent: true, Err: ErrSuperseded,
			Msg: "superseded by a newer save before it was sent; no request was sent for it"}
	}
	p.inflight[f] = struct{}{}
	p.mu.Unlock()
	err := do(ctx, w)
	p.mu.Lock()
	delete(p.inflight, f)
	sup := f.superseded
	if sup {
		p.sent++
	}
	p.mu.Unlock()
	if !sup {
		return err
	}
	// The save said the render is not wanted: it is not placed, and the
	// next plan renders what is. The request was sent, and the vendor
	// does not say a cancelled generation is free: it counts as paid.
	if err != nil {
		return &executor.Error{Class: executor.Invalid, Paid: true, Err: ErrSuperseded,
			Msg: "superseded by a newer save; its request was cancelled (the vendor may still bill it)"}
	}
	// It arrived whole: the executor hands KeepBody the file it wrote it
	// to, which keeps it in the content cache.
	return &executor.Error{Class: executor.Invalid, Paid: true, Err: &arrived{}, Msg: arrivedMsg}
}

// arrivedMsg says that a render arrived whole as a save superseded it.
const arrivedMsg = "superseded by a newer save as it arrived; it is not placed"

// arrived is the cause of the failure of a render that arrived whole as a
// save superseded it: KeepBody keeps such a one.
type arrived struct{}

func (*arrived) Error() string { return ErrSuperseded.Error() }
func (*arrived) Unwrap() error { return ErrSuperseded }

// KeepBody keeps a render that arrived whole as a save superseded its
// request (its failure's cause is an *arrived) in the content cache, as
// the render of the request's own inputs, from body, the executor's
// temporary file that holds it: it is paid for, and a save back to those
// inputs restores it with no request. It is kept only when Keep is set
// and the image is whole and within the provider's bounds, checked as
// apply checks an answer. It returns the failure to report, which says
// whether it was kept; any other failure as it is.
func (p *Superseding) KeepBody(req executor.Request, err error, body *os.File, size int64, sum string) error {
	var a *arrived
	if p.Keep == nil || req.Addr == (addrs.Addr{}) || !errors.As(err, &a) {
		return err
	}
	msg := arrivedMsg
	if kerr := p.keep(req, body, size, sum); kerr != nil {
		msg += fmt.Sprintf(", and could not be kept in the content cache (%v): a save back to it requests it again", kerr)
	} else {
		msg += ", but kept in the content cache: a save back to it restores it with no request"
	}
	return &executor.Error{Class: executor.Invalid, Paid: true, Err: ErrSuperseded, Msg: msg}
}

// keep keeps the whole image of size bytes in body, whose SHA-256 is sum,
// in the content cache as the render of req's inputs.
func (p *Superseding) keep(req executor.Request, body *os.File, size int64, sum string) error {
	mt, w, h, err := media.Check(io.NewSectionReader(body, 0, size))
	if err != nil {
		return fmt.Errorf("not a whole image: %w", err)
	}
	// Checked as apply checks an answer (size, aspect ratio): a restore
	// from the cache later checks only the pixel limit.
	if err := executor.CheckBounds(p.inner, req, w, h); err != nil {
		return fmt.Errorf("refused: %w", err)
	}
	return p.Keep.Keep(req.Inputs.Digest(), p.inner.Name(), body, media.Ext(mt), sum)
}

// Edit makes an edit through the wrapped provider, which must be an
// executor.Editor. It names no image to compare with a save, so it is
// never superseded; the executor calls EditFor, which is.
func (p *Superseding) Edit(ctx context.Context, req edits.Request, w io.Writer) error {
	ed, ok := p.inner.(executor.Editor)
	if !ok {
		return &executor.Error{Class: executor.Fatal, Msg: fmt.Sprintf("the %s provider cannot make %s images", p.inner.Name(), req.Op)}
	}
	return ed.Edit(ctx, req, w)
}

// Supersede cancels every request in flight that obsolete matches, and
// refuses later attempts that it matches.
func (p *Superseding) Supersede(obsolete func(executor.Request) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.obsolete = obsolete
	for f := range p.inflight {
		if !f.superseded && obsolete(f.req) {
			f.superseded = true
			p.n++
			f.cancel()
		}
	}
}

// Count is how many renders were superseded.
func (p *Superseding) Count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}

// Sent is how many of the superseded renders were superseded once sent:
// they count as paid.
func (p *Superseding) Sent() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent
}
