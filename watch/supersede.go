package watch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/edits"
	"github.com/pixform/pixform/executor"
	"github.com/pixform/pixform/planner"
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

// ErrSuperseded marks a render cancelled because a newer save made it
// obsolete.
var ErrSuperseded = errors.New("superseded by a newer save")

// Superseding wraps a run's provider so that watch can cancel one request
// without cancelling the run: each Render gets its own context, which
// Supersede cancels when the request becomes obsolete. The render then
// fails as Invalid (no retry), so the executor records nothing for it.
type Superseding struct {
	inner executor.Provider

	mu       sync.Mutex
	inflight map[*flight]struct{}
	obsolete func(executor.Request) bool // latest save's test; nil before any
	n        int                         // renders superseded
}

// flight is one Render in progress.
type flight struct {
	req        executor.Request
	cancel     context.CancelFunc
	superseded bool
}

var (
	_ executor.Provider = (*Superseding)(nil)
	_ executor.Bounded  = (*Superseding)(nil)
	_ executor.Editor   = (*Superseding)(nil)
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
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f := &flight{req: req, cancel: cancel}
	p.mu.Lock()
	if p.obsolete != nil && p.obsolete(req) {
		p.n++
		p.mu.Unlock()
		return supersededError()
	}
	p.inflight[f] = struct{}{}
	p.mu.Unlock()
	err := p.inner.Render(ctx, req, w)
	p.mu.Lock()
	delete(p.inflight, f)
	sup := f.superseded
	p.mu.Unlock()
	if sup {
		// Even a render that finished is discarded: the save said it is
		// not wanted, and the next plan will render what is.
		return supersededError()
	}
	return err
}

// Edit makes an edit through the wrapped provider, which must be an
// executor.Editor. An edit is not superseded: its request names no
// address to compare with a save, and the next plan replaces what a save
// made obsolete.
func (p *Superseding) Edit(ctx context.Context, req edits.Request, w io.Writer) error {
	ed, ok := p.inner.(executor.Editor)
	if !ok {
		return &executor.Error{Class: executor.Fatal, Msg: fmt.Sprintf("the %s provider cannot make %s images", p.inner.Name(), req.Op)}
	}
	return ed.Edit(ctx, req, w)
}

func supersededError() error {
	return &executor.Error{Class: executor.Invalid, Msg: "superseded by a newer save", Err: ErrSuperseded}
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
