package planner

import (
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

// TestDiffForced: a render that -replace names, or any render of a
// -no-cache run, is Forced (apply must request it); any other render the
// plan requests is not, so that apply may restore it from the content
// cache when the cache holds it by then.
func TestDiffForced(t *testing.T) {
	tests := map[string]struct {
		replace []string
		noCache bool
		want    map[string]bool // Forced by address
	}{
		"plain":         {want: map[string]bool{"image.a": false, "image.b": false, "image.c": false, "image.d": false}},
		"-replace":      {replace: []string{"image.c"}, want: map[string]bool{"image.a": false, "image.b": false, "image.c": true, "image.d": false}},
		"-no-cache":     {noCache: true, want: map[string]bool{"image.a": true, "image.b": true, "image.c": false, "image.d": false}},
		"-replace both": {replace: []string{"image.a", "image.c"}, noCache: true, want: map[string]bool{"image.a": true, "image.b": true, "image.c": true, "image.d": false}},
	}
	ok := func(sha string) FileFact { return FileFact{Exists: true, SHA256: sha} }
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			// a is new, b comes back from the cache, c is replaced by
			// -replace alone, d is kept.
			lock := &state.Lock{Images: map[addrs.Addr]state.Entry{
				addr(t, "image.b"): entry("old", 2, "b.png", providers.Imagine, "bb"),
				addr(t, "image.c"): entry("c", 3, "c.png", providers.Imagine, "cc"),
				addr(t, "image.d"): entry("d", 4, "d.png", providers.Imagine, "dd"),
			}}
			in := Input{
				Images: []config.Image{
					img(t, "image.a", "a", 1, "a.png"), img(t, "image.b", "b", 2, "b.png"),
					img(t, "image.c", "c", 3, "c.png"), img(t, "image.d", "d", 4, "d.png"),
				},
				Lock:     lock,
				Facts:    map[string]FileFact{"b.png": ok("bb"), "c.png": ok("cc"), "d.png": ok("dd")},
				Provider: providers.Imagine,
				NewSeed:  func() int64 { return 1234 },
				Cached: func(d, p string) bool {
					return d == (state.Inputs{Prompt: "b", Style: "flux-dev", AspectRatio: "1:1", Seed: 2}).Digest()
				},
				NoCache: tc.noCache,
			}
			for _, s := range tc.replace {
				in.Replace = append(in.Replace, addr(t, s))
			}
			plan, diags := Diff(in)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			for _, c := range plan.Changes {
				if c.Forced != tc.want[c.Addr.String()] {
					t.Errorf("%s (%s, from cache %v): Forced %v, want %v", c.Addr, c.Action, c.FromCache, c.Forced, tc.want[c.Addr.String()])
				}
				if c.Forced && c.FromCache {
					t.Errorf("%s: Forced and restored from the cache", c.Addr)
				}
			}
			if b := plan.Changes[1]; !tc.noCache && !b.FromCache {
				t.Errorf("image.b is not restored from the cache: %q", b.Reasons)
			}
		})
	}
}
