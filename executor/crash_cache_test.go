package executor

import (
	"context"
	"errors"
	"testing"

	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
)

// A run that dies after an image's response arrived but before the
// lockfile recorded it must not cost that request again: the render is in
// the content cache before the lockfile write, so the next plan restores
// it. A failing lockfile write stands in for the crash.
func TestApplyCachesBeforeRecording(t *testing.T) {
	tests := map[string]struct {
		changes   func(e *env, t *testing.T) []planner.Change
		provider  string
		wantCache bool
	}{
		"create": {
			changes:   func(e *env, t *testing.T) []planner.Change { return []planner.Change{create("a", "a.png", 1)} },
			provider:  providers.Imagine,
			wantCache: true,
		},
		"replace over a recorded image": {
			changes: func(e *env, t *testing.T) []planner.Change {
				old := e.had(t, "a", "a.png", 7)
				return []planner.Change{withPrior(create("a", "a.png", 1), planner.Replace, old, "image.a")}
			},
			provider:  providers.Imagine,
			wantCache: true,
		},
		"a draft is not cached": {
			changes:  func(e *env, t *testing.T) []planner.Change { return []planner.Change{create("a", "a.png", 1)} },
			provider: providers.Draft,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			changes := tc.changes(e, t)
			e.prov = &fakeProvider{name: tc.provider, render: renderPNG(t)}
			crash := errors.New("killed")
			res, err := e.apply(t, context.Background(), false, changes, func(o *Options) {
				o.Recorder.(*fakeRecorder).failAt = func(op, addr string) error {
					if op == "set" {
						return crash
					}
					return nil
				}
			})
			if !errors.Is(err, crash) {
				t.Fatalf("Apply: %v, want the lockfile failure", err)
			}
			// A draft render is no request.
			if want := map[bool]int{true: 0, false: 1}[tc.provider == providers.Draft]; res.Requests != want {
				t.Errorf("%d requests, want %d", res.Requests, want)
			}
			in := changes[0].Inputs
			if got := e.cache.Has(in.Digest(), tc.provider); got != tc.wantCache {
				t.Errorf("cache has the render: %v, want %v", got, tc.wantCache)
			}
		})
	}
}
