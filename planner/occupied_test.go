package planner

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

// TestDiffOccupied plans changes that write a path holding a file the
// lockfile does not record there: each is marked Occupied, which apply
// refuses, and says so, unless the file holds the very bytes the change
// writes (then it is adopted).
func TestDiffOccupied(t *testing.T) {
	ok := func(sha string) FileFact { return FileFact{Exists: true, SHA256: sha} }
	tests := map[string]struct {
		images []config.Image
		lock   map[string]state.Entry
		facts  map[string]FileFact
		cached map[string]string // digest → sha256 of the cached render
		// leftovers are the paths an interrupted apply noted, each with
		// the hash of the file it left there.
		leftovers leftoverSums
		addr      string // the change looked at
		action    Action
		occupied  bool
		reason    string
	}{
		"create onto a file": {
			images: []config.Image{img(t, "image.a", "cat", 7, "mine.png")},
			facts:  map[string]FileFact{"mine.png": ok(shaF)},
			addr:   "image.a", action: Create, occupied: true,
			reason: "would overwrite a file at mine.png that the lockfile does not record",
		},
		"create onto a file of the bytes it restores": {
			images: []config.Image{img(t, "image.a", "cat", 7, "a.png")},
			facts:  map[string]FileFact{"a.png": ok(shaA)},
			cached: map[string]string{entry("cat", 7, "a.png", providers.Imagine, "").Inputs.Digest(): shaA},
			addr:   "image.a", action: Create,
			reason: "a.png already holds the bytes it writes",
		},
		"create onto a file of other bytes than it restores": {
			images: []config.Image{img(t, "image.a", "cat", 7, "a.png")},
			facts:  map[string]FileFact{"a.png": ok(shaF)},
			cached: map[string]string{entry("cat", 7, "a.png", providers.Imagine, "").Inputs.Digest(): shaA},
			addr:   "image.a", action: Create, occupied: true,
		},
		"create onto a directory": {
			images: []config.Image{img(t, "image.a", "cat", 7, "a.png")},
			facts:  map[string]FileFact{"a.png": {Exists: true}},
			addr:   "image.a", action: Create, occupied: true,
		},
		"create onto the recorded file of a deleted image": {
			images: []config.Image{img(t, "image.a", "cat", 7, "old.png")},
			lock:   map[string]state.Entry{"image.old": entry("dog", 1, "old.png", providers.Imagine, shaB)},
			facts:  map[string]FileFact{"old.png": ok(shaB)},
			addr:   "image.a", action: Create,
		},
		"create onto the file of a deleted image, changed by hand": {
			images: []config.Image{img(t, "image.a", "cat", 7, "old.png")},
			lock:   map[string]state.Entry{"image.old": entry("dog", 1, "old.png", providers.Imagine, shaB)},
			facts:  map[string]FileFact{"old.png": ok(shaF)},
			addr:   "image.a", action: Create, occupied: true,
		},
		"move onto a file": {
			images: []config.Image{img(t, "image.a", "cat", 7, "mine.png")},
			lock:   map[string]state.Entry{"image.a": entry("cat", 7, "a.png", providers.Imagine, shaA)},
			facts:  map[string]FileFact{"a.png": ok(shaA), "mine.png": ok(shaF)},
			addr:   "image.a", action: Move, occupied: true,
			reason: "would overwrite a file at mine.png that the lockfile does not record",
		},
		"move onto a copy of itself": {
			images: []config.Image{img(t, "image.a", "cat", 7, "mine.png")},
			lock:   map[string]state.Entry{"image.a": entry("cat", 7, "a.png", providers.Imagine, shaA)},
			facts:  map[string]FileFact{"a.png": ok(shaA), "mine.png": ok(shaA)},
			addr:   "image.a", action: Move,
		},
		"move onto the file of an image moving away": {
			images: []config.Image{
				img(t, "image.a", "cat", 7, "b.png"),
				img(t, "image.b", "dog", 8, "c.png"),
			},
			lock: map[string]state.Entry{
				"image.a": entry("cat", 7, "a.png", providers.Imagine, shaA),
				"image.b": entry("dog", 8, "b.png", providers.Imagine, shaB),
			},
			facts: map[string]FileFact{"a.png": ok(shaA), "b.png": ok(shaB)},
			addr:  "image.a", action: Move,
		},
		"move onto the file of an image refused its own move": {
			images: []config.Image{
				img(t, "image.a", "cat", 7, "mine.png"),
				img(t, "image.b", "dog", 8, "a.png"),
			},
			lock: map[string]state.Entry{
				"image.a": entry("cat", 7, "a.png", providers.Imagine, shaA),
				"image.b": entry("dog", 8, "b.png", providers.Imagine, shaB),
			},
			facts: map[string]FileFact{"a.png": ok(shaA), "b.png": ok(shaB), "mine.png": ok(shaF)},
			addr:  "image.b", action: Move, occupied: true,
			reason: "would overwrite the file of image.a at a.png, whose own change is refused",
		},
		"create at the end of a chain behind a refused move": {
			images: []config.Image{
				img(t, "image.a", "cat", 7, "mine.png"),
				img(t, "image.b", "dog", 8, "a.png"),
				img(t, "image.c", "eel", 9, "b.png"),
			},
			lock: map[string]state.Entry{
				"image.a": entry("cat", 7, "a.png", providers.Imagine, shaA),
				"image.b": entry("dog", 8, "b.png", providers.Imagine, shaB),
			},
			facts: map[string]FileFact{"a.png": ok(shaA), "b.png": ok(shaB), "mine.png": ok(shaF)},
			addr:  "image.c", action: Create, occupied: true,
			reason: "would overwrite the file of image.b at b.png, whose own change is refused",
		},
		"address move onto a file": {
			images: []config.Image{img(t, "image.z", "cat", 7, "mine.png")},
			lock:   map[string]state.Entry{"image.a": entry("cat", 7, "a.png", providers.Imagine, shaA)},
			facts:  map[string]FileFact{"a.png": ok(shaA), "mine.png": ok(shaF)},
			addr:   "image.z", action: Move, occupied: true,
		},
		"replace with a new path onto a file": {
			images: []config.Image{img(t, "image.a", "dog", 7, "mine.png")},
			lock:   map[string]state.Entry{"image.a": entry("cat", 7, "a.png", providers.Imagine, shaA)},
			facts:  map[string]FileFact{"a.png": ok(shaA), "mine.png": ok(shaF)},
			addr:   "image.a", action: Replace, occupied: true,
			reason: "would overwrite a file at mine.png that the lockfile does not record",
		},
		"replace of its own file changed by hand": {
			images: []config.Image{img(t, "image.a", "cat", 7, "a.png")},
			lock:   map[string]state.Entry{"image.a": entry("cat", 7, "a.png", providers.Imagine, shaA)},
			facts:  map[string]FileFact{"a.png": ok(shaF)},
			addr:   "image.a", action: Replace,
		},
		"candidates create onto a file of the take it places": {
			images: []config.Image{takesImg(t, 3)},
			facts:  map[string]FileFact{"a.png": ok(shaC)},
			cached: takesCached(t, 3, shaB),
			addr:   "image.a", action: Create,
			reason: "a.png already holds the bytes it writes",
		},
		// Apply places the first take (no pick remembered): a file of
		// another take, as a pick cut off before the cache noted it
		// leaves, is not what it writes, and would be overwritten.
		"candidates create onto a file of another of its takes": {
			images: []config.Image{takesImg(t, 3)},
			facts:  map[string]FileFact{"a.png": ok(shaB)},
			cached: takesCached(t, 3, shaB),
			addr:   "image.a", action: Create, occupied: true,
		},
		"candidates create onto a file of another take an interrupted pick left": {
			images:    []config.Image{takesImg(t, 3)},
			facts:     map[string]FileFact{"a.png": ok(shaB)},
			cached:    takesCached(t, 3, shaB),
			leftovers: leftoverSums{"a.png": shaB},
			addr:      "image.a", action: Create,
			reason: "replaces the file that an interrupted apply left at a.png",
		},
		"candidates create onto a file of other bytes": {
			images: []config.Image{takesImg(t, 3)},
			facts:  map[string]FileFact{"a.png": ok(shaF)},
			cached: takesCached(t, 3, shaB),
			addr:   "image.a", action: Create, occupied: true,
		},
		"create onto a file an interrupted apply left": {
			images:    []config.Image{img(t, "image.a", "cat", 7, "a.png")},
			facts:     map[string]FileFact{"a.png": ok(shaF)},
			leftovers: leftoverSums{"a.png": shaF},
			addr:      "image.a", action: Create,
			reason: "replaces the file that an interrupted apply left at a.png",
		},
		// The user replaced (or edited) the file an interrupted apply
		// left: the user's, refused like any other.
		// ... which says that an interrupted apply was writing there,
		// and what to do whether or not the user put it there.
		"create onto a file put where an interrupted apply left one": {
			images:    []config.Image{img(t, "image.a", "cat", 7, "a.png")},
			facts:     map[string]FileFact{"a.png": ok(shaF)},
			leftovers: leftoverSums{"a.png": shaB},
			addr:      "image.a", action: Create, occupied: true,
			reason: "would overwrite a file at a.png that the lockfile does not record, at a path an interrupted apply was writing, but its bytes are not an image pixform knows it made: apply refuses this image and leaves the file; if you did not put it there, delete it; if it is yours, move it away",
		},
		"replace of a restore onto a file put where an interrupted apply left one": {
			images:    []config.Image{img(t, "image.a", "cat", 7, "a.png")},
			lock:      map[string]state.Entry{"image.a": entry("dog", 7, "old.png", providers.Imagine, shaA)},
			facts:     map[string]FileFact{"old.png": ok(shaA), "a.png": ok(shaF)},
			cached:    map[string]string{entry("cat", 7, "a.png", providers.Imagine, "").Inputs.Digest(): shaB},
			leftovers: leftoverSums{"a.png": shaB},
			addr:      "image.a", action: Replace, occupied: true,
			reason: "at a path an interrupted apply was writing",
		},
		// A file at a path no interrupted apply noted gets the usual
		// reason, though another path is noted.
		"create onto a file, another path noted": {
			images:    []config.Image{img(t, "image.a", "cat", 7, "mine.png")},
			facts:     map[string]FileFact{"mine.png": ok(shaF)},
			leftovers: leftoverSums{"a.png": shaB},
			addr:      "image.a", action: Create, occupied: true,
			reason: "would overwrite a file at mine.png that the lockfile does not record: apply refuses this image and leaves the file; move it away (or delete it) first",
		},
		"create onto something not a file where an interrupted apply left one": {
			images:    []config.Image{img(t, "image.a", "cat", 7, "a.png")},
			facts:     map[string]FileFact{"a.png": {Exists: true}},
			leftovers: leftoverSums{"a.png": ""},
			addr:      "image.a", action: Create, occupied: true,
		},
		"derived create onto a file": {
			images: []config.Image{
				img(t, "image.a", "cat", 7, "a.png"),
				derived(t, "image.up", "image.a", "upscale", "mine.png"),
			},
			lock:  map[string]state.Entry{"image.a": entry("cat", 7, "a.png", providers.Imagine, shaA)},
			facts: map[string]FileFact{"a.png": ok(shaA), "mine.png": ok(shaF)},
			addr:  "image.up", action: Create, occupied: true,
			reason: "would overwrite a file at mine.png that the lockfile does not record",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			lock := state.NewLock()
			for k, e := range tc.lock {
				lock.Images[addr(t, k)] = e
			}
			in := Input{
				Images: tc.images, Lock: lock, Facts: tc.facts, Provider: providers.Imagine,
				NewSeed: func() int64 { return 1234 }, Leftovers: tc.leftovers,
				Cached: func(d, p string) bool { _, ok := tc.cached[d]; return ok },
				CachedSHA256: func(d, p string) (string, bool) {
					s, ok := tc.cached[d]
					return s, ok
				},
			}
			plan, diags := Diff(in)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			var c *Change
			for i := range plan.Changes {
				if plan.Changes[i].Addr.String() == tc.addr {
					c = &plan.Changes[i]
				}
			}
			if c == nil {
				t.Fatalf("no change of %s: %+v", tc.addr, plan.Changes)
			}
			if c.Action != tc.action || c.Occupied != tc.occupied {
				t.Errorf("%s %s occupied %v (reasons %q), want %s occupied %v", c.Addr, c.Action, c.Occupied, c.Reasons, tc.action, tc.occupied)
			}
			all := strings.Join(c.Reasons, "\n")
			if tc.reason != "" && !strings.Contains(all, tc.reason) {
				t.Errorf("reasons %q lack %q", c.Reasons, tc.reason)
			}
			if !tc.occupied && strings.Contains(all, "does not record") {
				t.Errorf("reasons %q warn of a file the change may write", c.Reasons)
			}
		})
	}
}

// TestDiffOccupiedPrefill marks a move onto a file in a plan large enough
// for prefill, which plans moves on several goroutines.
func TestDiffOccupiedPrefill(t *testing.T) {
	ok := func(sha string) FileFact { return FileFact{Exists: true, SHA256: sha} }
	lock := state.NewLock()
	facts := map[string]FileFact{"mine.png": ok(shaF)}
	var images []config.Image
	for i := range prefillFrom + 10 {
		a, p := fmt.Sprintf("image.i%04d", i), fmt.Sprintf("i%04d.png", i)
		lock.Images[addr(t, a)] = entry("cat", int64(i+1), p, providers.Imagine, shaA)
		facts[p] = ok(shaA)
		if i == 7 {
			p = "mine.png"
		}
		images = append(images, img(t, a, "cat", int64(i+1), p))
	}
	p := &planning{in: Input{Images: images, Lock: lock, Facts: facts, Provider: providers.Imagine}, consumed: map[addrs.Addr]bool{}}
	plan, diags := p.run()
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if p.prefilled == 0 {
		t.Skip("prefill did not run (one CPU)")
	}
	for _, c := range plan.Changes {
		if want := c.Addr.String() == "image.i0007"; c.Occupied != want {
			t.Errorf("%s %s occupied %v, want %v (reasons %q)", c.Addr, c.Action, c.Occupied, want, c.Reasons)
		}
	}
}

// takesImg is image.a at a.png with n candidates.
func takesImg(t *testing.T, n int) config.Image {
	i := img(t, "image.a", "cat", 7, "a.png")
	i.Candidates = n
	return i
}

// takesCached caches each take of takesImg(n), the last with bytes sum.
func takesCached(t *testing.T, n int, sum string) map[string]string {
	in := state.Inputs{Prompt: "cat", Style: "flux-dev", AspectRatio: "1:1", Seed: 7, Candidates: n}
	out := map[string]string{}
	seeds := in.TakeSeeds()
	for i, seed := range seeds {
		s := shaC
		if i == len(seeds)-1 {
			s = sum
		}
		out[in.Take(seed).Digest()] = s
	}
	return out
}

// leftoverSums judges a file at a path an interrupted apply noted by its
// hash: the one of the file that apply left there (state.Leftovers).
type leftoverSums map[string]string

func (l leftoverSums) Holds(path, sum string) bool {
	s, ok := l[path]
	return ok && s == sum
}

func (l leftoverSums) Noted(path string) bool {
	_, ok := l[path]
	return ok
}
