package planner

import (
	"slices"
	"strings"
	"testing"

	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

func TestDiffStore(t *testing.T) {
	ok := func(sha string) FileFact { return FileFact{Exists: true, SHA256: sha} }
	fresh := state.Inputs{Prompt: "dog", Style: "flux-dev", AspectRatio: "1:1", Seed: 9}
	catInputs := state.Inputs{Prompt: "cat", Style: "flux-dev", AspectRatio: "1:1", Seed: 7}
	tests := map[string]struct {
		images   []config.Image
		lock     map[string]state.Entry
		facts    map[string]FileFact
		inStore  map[string]bool
		stored   map[string]string // digest → sha256 (provider imagine)
		cached   bool
		noCache  bool
		replace  []string
		provider string
		action   Action
		from     string // "store", "cache" or ""
		sum      string
		upload   bool
		// putBack is Change.PutBack; diverged says a reason names
		// another render of the entry's inputs (divergedRender).
		putBack, diverged bool
		summary           Summary
	}{
		"missing file the store holds is restored": {
			images:  []config.Image{img(t, "image.a", "cat", 7, "a.png")},
			lock:    map[string]state.Entry{"image.a": entry("cat", 7, "a.png", providers.Imagine, "aa")},
			inStore: map[string]bool{"aa": true},
			action:  Replace, from: "store", sum: "aa", putBack: true,
			summary: Summary{Replace: 1, FromStore: 1},
		},
		"missing file whose inputs the store records as its bytes is put back": {
			images:  []config.Image{img(t, "image.a", "cat", 7, "a.png")},
			lock:    map[string]state.Entry{"image.a": entry("cat", 7, "a.png", providers.Imagine, "aa")},
			inStore: map[string]bool{"aa": true, "bb": true},
			stored:  map[string]string{catInputs.Digest(): "aa"},
			action:  Replace, from: "store", sum: "aa", putBack: true,
			summary: Summary{Replace: 1, FromStore: 1},
		},
		// The store's record names the first render pushed of these
		// inputs, an equally valid one (a -replace of an image whose
		// seed is set renders them again): the recorded bytes are put
		// back, with no word of a mixed entry.
		"missing file whose inputs the store records as other bytes": {
			images:  []config.Image{img(t, "image.a", "cat", 7, "a.png")},
			lock:    map[string]state.Entry{"image.a": entry("cat", 7, "a.png", providers.Imagine, "aa")},
			inStore: map[string]bool{"aa": true, "bb": true},
			stored:  map[string]string{catInputs.Digest(): "bb"},
			action:  Replace, from: "store", sum: "aa", putBack: true,
			summary: Summary{Replace: 1, FromStore: 1},
		},
		"a moved path is no put-back": {
			images:  []config.Image{img(t, "image.a", "cat", 7, "b.png")},
			lock:    map[string]state.Entry{"image.a": entry("cat", 7, "a.png", providers.Imagine, "aa")},
			inStore: map[string]bool{"aa": true},
			action:  Replace, from: "store", sum: "aa",
			summary: Summary{Replace: 1, FromStore: 1},
		},
		"missing file the store lacks is paid": {
			images:  []config.Image{img(t, "image.a", "cat", 7, "a.png")},
			lock:    map[string]state.Entry{"image.a": entry("cat", 7, "a.png", providers.Imagine, "aa")},
			inStore: map[string]bool{},
			action:  Replace,
			summary: Summary{Replace: 1, Requests: 1, Credits: 15},
		},
		"the local cache comes first": {
			images:  []config.Image{img(t, "image.a", "cat", 7, "a.png")},
			lock:    map[string]state.Entry{"image.a": entry("cat", 7, "a.png", providers.Imagine, "aa")},
			inStore: map[string]bool{"aa": true},
			cached:  true,
			action:  Replace, from: "cache",
			summary: Summary{Replace: 1},
		},
		"changed inputs the store rendered are restored": {
			images:  []config.Image{img(t, "image.a", "dog", 9, "a.png")},
			lock:    map[string]state.Entry{"image.a": entry("cat", 7, "a.png", providers.Imagine, "aa")},
			facts:   map[string]FileFact{"a.png": ok("aa")},
			inStore: map[string]bool{"aa": true},
			stored:  map[string]string{fresh.Digest(): "bb"},
			action:  Replace, from: "store", sum: "bb",
			summary: Summary{Replace: 1, FromStore: 1},
		},
		"a create the store rendered is restored": {
			images: []config.Image{img(t, "image.a", "dog", 9, "a.png")},
			stored: map[string]string{fresh.Digest(): "bb"},
			action: Create, from: "store", sum: "bb",
			summary: Summary{Create: 1, FromStore: 1},
		},
		"-replace is never restored": {
			images:  []config.Image{img(t, "image.a", "dog", 9, "a.png")},
			lock:    map[string]state.Entry{"image.a": entry("dog", 9, "a.png", providers.Imagine, "aa")},
			inStore: map[string]bool{"aa": true},
			stored:  map[string]string{fresh.Digest(): "aa"},
			replace: []string{"image.a"},
			action:  Replace,
			summary: Summary{Replace: 1, Requests: 1, Credits: 15},
		},
		"-no-cache is never restored": {
			images:  []config.Image{img(t, "image.a", "dog", 9, "a.png")},
			stored:  map[string]string{fresh.Digest(): "bb"},
			noCache: true,
			action:  Create,
			summary: Summary{Create: 1, Requests: 1, Credits: 15},
		},
		"a draft render is not restored for imagine": {
			images:  []config.Image{img(t, "image.a", "cat", 7, "a.png")},
			lock:    map[string]state.Entry{"image.a": entry("cat", 7, "a.png", providers.Draft, "aa")},
			inStore: map[string]bool{"aa": true},
			action:  Replace,
			summary: Summary{Replace: 1, Requests: 1, Credits: 15},
		},
		"an unchanged image the store lacks is to upload": {
			images:  []config.Image{img(t, "image.a", "cat", 7, "a.png")},
			lock:    map[string]state.Entry{"image.a": entry("cat", 7, "a.png", providers.Imagine, "aa")},
			facts:   map[string]FileFact{"a.png": ok("aa")},
			inStore: map[string]bool{},
			action:  NoOp, upload: true,
			summary: Summary{NoOp: 1, Upload: 1},
		},
		"an unchanged image the store holds is nothing": {
			images:  []config.Image{img(t, "image.a", "cat", 7, "a.png")},
			lock:    map[string]state.Entry{"image.a": entry("cat", 7, "a.png", providers.Imagine, "aa")},
			facts:   map[string]FileFact{"a.png": ok("aa")},
			inStore: map[string]bool{"aa": true},
			action:  NoOp,
			summary: Summary{NoOp: 1},
		},
		"no store, no upload": {
			images:  []config.Image{img(t, "image.a", "cat", 7, "a.png")},
			lock:    map[string]state.Entry{"image.a": entry("cat", 7, "a.png", providers.Imagine, "aa")},
			facts:   map[string]FileFact{"a.png": ok("aa")},
			action:  NoOp,
			summary: Summary{NoOp: 1},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			lock := state.NewLock()
			for a, e := range tc.lock {
				lock.Images[addr(t, a)] = e
			}
			in := Input{
				Images: tc.images, Lock: lock, Facts: tc.facts, Provider: tc.provider, NoCache: tc.noCache,
				NewSeed: func() int64 { return 1234 },
				Cached:  func(string, string) bool { return tc.cached },
			}
			if in.Provider == "" {
				in.Provider = providers.Imagine
			}
			for _, r := range tc.replace {
				in.Replace = append(in.Replace, addr(t, r))
			}
			if tc.inStore != nil {
				in.InStore = func(sum string) bool { return tc.inStore[sum] }
			}
			if tc.stored != nil {
				in.Stored = func(d, p string) (string, bool) {
					s, ok := tc.stored[d]
					return s, ok && p == providers.Imagine
				}
			}
			p, diags := Diff(in)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			c := p.Changes[0]
			from := ""
			switch {
			case c.FromStore && c.FromCache:
				t.Fatal("both FromStore and FromCache")
			case c.FromStore:
				from = "store"
			case c.FromCache:
				from = "cache"
			}
			if c.Action != tc.action || from != tc.from || c.StoreSHA256 != tc.sum || c.Upload != tc.upload {
				t.Errorf("got %s from %q sum %q upload %v (reasons %q), want %s from %q sum %q upload %v",
					c.Action, from, c.StoreSHA256, c.Upload, c.Reasons, tc.action, tc.from, tc.sum, tc.upload)
			}
			diverged := slices.ContainsFunc(c.Reasons, func(r string) bool { return strings.Contains(r, divergedRender) })
			if c.PutBack != tc.putBack || diverged != tc.diverged {
				t.Errorf("put back %v, diverged %v (reasons %q), want %v, %v", c.PutBack, diverged, c.Reasons, tc.putBack, tc.diverged)
			}
			if p.Summary != tc.summary {
				t.Errorf("summary %+v, want %+v", p.Summary, tc.summary)
			}
		})
	}
}
