package planner

import (
	"slices"
	"strings"
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

// A render the content cache holds damaged (its bytes no longer match
// their hash: an output edited in place through a link an older pixform
// made) is not restored: the plan requests the image, prices it, and says
// why, instead of promising a free restore apply cannot make.
func TestDiffCacheDamaged(t *testing.T) {
	digest := state.Inputs{Prompt: "cat", Style: "flux-dev", AspectRatio: "1:1", Seed: 5}.Digest()
	tests := map[string]struct {
		intact, damaged bool
		fromCache       bool
		requests        int
		reason          string
	}{
		"intact": {intact: true, fromCache: true, requests: 0, reason: "restored from the local cache"},
		"damaged": {damaged: true, requests: 1,
			reason: "not restored from the local cache: its copy changed"},
		"not cached": {requests: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			in := Input{
				Images:   []config.Image{img(t, "image.a", "cat", 5, "a.png")},
				Lock:     &state.Lock{Images: map[addrs.Addr]state.Entry{}},
				Provider: providers.Imagine,
				NewSeed:  func() int64 { return 1234 },
				Cached:   func(d, p string) bool { return tc.intact && d == digest && p == providers.Imagine },
				CacheDamaged: func(d, p string) bool {
					return tc.damaged && d == digest && p == providers.Imagine
				},
			}
			plan, diags := Diff(in)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			c := plan.Changes[0]
			if c.FromCache != tc.fromCache || c.Requests != tc.requests {
				t.Fatalf("FromCache %v, %d requests; want %v, %d (reasons %q)", c.FromCache, c.Requests, tc.fromCache, tc.requests, c.Reasons)
			}
			if tc.requests == 1 && (plan.Summary.Credits != 15 || plan.Summary.Requests != 1) {
				t.Errorf("summary %+v", plan.Summary)
			}
			has := slices.ContainsFunc(c.Reasons, func(r string) bool { return strings.Contains(r, tc.reason) })
			if tc.reason != "" && !has {
				t.Errorf("reasons %q, want one with %q", c.Reasons, tc.reason)
			}
		})
	}
}
