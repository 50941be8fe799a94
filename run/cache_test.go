package run

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"io"
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/executor"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

// pngProvider renders an 8×8 PNG for every request.
type pngProvider struct{}

func (pngProvider) Name() string { return providers.Imagine }

func (pngProvider) Render(_ context.Context, _ executor.Request, w io.Writer) error {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewNRGBA(image.Rect(0, 0, 8, 8))); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

// TestApplyUsesPlanCache: Apply restores from and keeps renders in the
// content cache the plan was made with (Options.Cache), listed once a
// run, rather than listing the cache directory again: a render it keeps
// is in that very Cache, which was listed before the apply.
func TestApplyUsesPlanCache(t *testing.T) {
	dir := t.TempDir()
	cache := state.OpenCache(dir)
	in := state.Inputs{Prompt: "a fox", Style: "imagine-turbo", AspectRatio: "1:1", Seed: 7}
	if cache.Has(in.Digest(), providers.Imagine) {
		t.Fatal("an empty cache holds a render")
	}
	c := planner.Change{Addr: addrs.Addr{Name: "fox"}, Action: planner.Create, Inputs: in, Path: "fox.png", Requests: 1, Credits: 1, CreditsKnown: true}
	p := &planner.Plan{Provider: providers.Imagine, Changes: []planner.Change{c}}
	p.Summary = planner.Summarize(p.Changes)
	res, err := Apply(context.Background(), p, Options{
		Dir: dir, Config: &config.Config{}, Lock: state.NewLock(), Cache: cache,
		Provider: pngProvider{}, Hooks: executor.NilHooks{}, MaxCredits: -1,
	})
	if err != nil || res.Generated != 1 {
		t.Fatalf("Apply: %+v, %v", res, err)
	}
	if !cache.Has(in.Digest(), providers.Imagine) {
		t.Error("the render apply kept is not in the plan's cache: apply listed the cache again")
	}
}
