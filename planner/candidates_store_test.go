package planner

import (
	"strings"
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

// lighthouseFour is a candidates image of four takes, and a maker of its
// entry: at hero.png, its takes' sha256 "s1" to "s4", take 1 placed.
func lighthouseFour() (state.Inputs, func() state.Entry) {
	four := state.Inputs{Prompt: "a lighthouse", Style: "flux-dev", AspectRatio: "1:1", Seed: 42, Candidates: 4}
	return four, func() state.Entry {
		e := entry("a lighthouse", 42, "hero.png", providers.Imagine, "s1")
		e.Inputs.Candidates = 4
		for i, s := range four.TakeSeeds() {
			e.Takes = append(e.Takes, state.Take{Seed: s, SHA256: "s" + string(rune('1'+i)), Bytes: 10})
		}
		return e
	}
}

// Takes the image store records under their own inputs are restored from
// it with no request; a clone without the file plans a restore of the
// take at the path; a take the store lacks is to upload.
func TestDiffCandidatesWithStore(t *testing.T) {
	four, recorded := lighthouseFour()
	seeds := four.TakeSeeds()
	// stored holds takes [from, to) of four, take i as "s<i+1>".
	stored := func(from, to int) map[string]string {
		m := map[string]string{}
		for i := from; i < to; i++ {
			m[four.Take(seeds[i]).Digest()] = "s" + string(rune('1'+i))
		}
		return m
	}
	tests := map[string]struct {
		lock      *state.Entry
		onDisk    bool
		cached    int // takes [0, cached) are in the local cache
		stored    map[string]string
		inStore   map[string]bool
		replace   bool
		action    Action
		req       int
		fromStore bool
		storeSum  string
		upload    bool
		reason    string
	}{
		"all stored":          {stored: stored(0, 4), action: Create, fromStore: true, storeSum: "s1", reason: "every take restored from the image store"},
		"cache and store":     {cached: 2, stored: stored(2, 4), action: Create, fromStore: true, storeSum: "s3"},
		"part stored":         {stored: stored(1, 3), action: Create, req: 2, reason: "(2 requests, 30 credits; 2 from the image store)"},
		"forced":              {lock: ptr(recorded()), onDisk: true, stored: stored(0, 4), replace: true, action: Replace, req: 4},
		"clone picked":        {lock: ptr(picked(recorded(), 3)), stored: stored(0, 4), action: Replace, fromStore: true, storeSum: "s3"},
		"takes to upload":     {lock: ptr(recorded()), onDisk: true, inStore: map[string]bool{"s1": true, "s2": true, "s3": true}, action: NoOp, upload: true},
		"every take uploaded": {lock: ptr(recorded()), onDisk: true, inStore: map[string]bool{"s1": true, "s2": true, "s3": true, "s4": true}, action: NoOp},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			lock := state.NewLock()
			facts := map[string]FileFact{}
			if tc.lock != nil {
				lock.Images[addrs.MustParse("image.hero")] = *tc.lock
				if tc.onDisk {
					facts["hero.png"] = FileFact{Exists: true, SHA256: tc.lock.SHA256}
				}
			}
			hero := img(t, "image.hero", "a lighthouse", 42, "hero.png")
			hero.Candidates = 4
			in := Input{Images: []config.Image{hero}, Lock: lock, Facts: facts, Provider: providers.Imagine,
				Cached: func(d, p string) bool {
					for _, s := range seeds[:tc.cached] {
						if d == four.Take(s).Digest() {
							return true
						}
					}
					return false
				},
				Stored:  func(d, _ string) (string, bool) { s, ok := tc.stored[d]; return s, ok },
				InStore: func(s string) bool { return tc.inStore[s] },
				NewSeed: func() int64 { return 42 }}
			if tc.replace {
				in.Replace = []addrs.Addr{addrs.MustParse("image.hero")}
			}
			p, diags := Diff(in)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			c := p.Changes[0]
			if c.Action != tc.action || c.Requests != tc.req || c.FromStore != tc.fromStore || c.StoreSHA256 != tc.storeSum || c.Upload != tc.upload {
				t.Fatalf("got %v, %d requests, from store %v (%q), upload %v; reasons %q", c.Action, c.Requests, c.FromStore, c.StoreSHA256, c.Upload, c.Reasons)
			}
			if c.FromStore && c.FromCache {
				t.Fatal("from the store and from the cache")
			}
			if tc.reason != "" && !strings.Contains(strings.Join(c.Reasons, "\n"), tc.reason) {
				t.Fatalf("reasons %q lack %q", c.Reasons, tc.reason)
			}
		})
	}
}
