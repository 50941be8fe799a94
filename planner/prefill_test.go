package planner

import (
	"fmt"
	"reflect"
	"runtime"
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/media"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

// TestPrefillSameAsSerial: a large plan whose images are planned partly
// on several goroutines (prefill) is the plan of one goroutine, for
// images of every kind side by side: unchanged, moved, renamed from an
// undeclared entry, edited, drifted on disk, missing, new (seeds drawn
// in order), to be replaced, drawn by draft, of several candidates,
// derived from another image, under a store, with the content cache.
func TestPrefillSameAsSerial(t *testing.T) {
	for _, tc := range []struct {
		name     string
		provider string
		replace  bool
		store    bool
	}{
		{"imagine", providers.Imagine, false, false},
		{"draft", providers.Draft, false, false},
		{"replace", providers.Imagine, true, false},
		{"store", providers.Imagine, false, true},
		{"all-edited", providers.Imagine, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Prefill needs two Ps: a run at -cpu 1 would compare the
			// serial planning with itself.
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0))))
			a, b := prefillInput(2000, tc.provider, tc.replace, tc.store), prefillInput(2000, tc.provider, tc.replace, tc.store)
			if tc.name == "all-edited" {
				// Every image's prompt changed: a plan of replaces (and of
				// the other kinds' changes besides).
				for _, in := range []*Input{&a, &b} {
					for i := range in.Images {
						if in.Images[i].Prompt != "" {
							in.Images[i].Prompt += " at dusk"
						}
					}
				}
			}
			pp := &planning{in: a, consumed: map[addrs.Addr]bool{}}
			got, gotDiags := pp.run()
			// An image store turns prefill off; with every image edited, it
			// leaves all to changeAt.
			if none := tc.store || tc.name == "all-edited"; none != (pp.prefilled == 0) {
				t.Errorf("prefill planned %d images (none expected: %v)", pp.prefilled, none)
			}
			p := &planning{in: b, consumed: map[addrs.Addr]bool{}, serial: true}
			want, wantDiags := p.run()
			if !reflect.DeepEqual(gotDiags, wantDiags) {
				t.Fatalf("diagnostics differ: %v, serially %v", gotDiags, wantDiags)
			}
			if !reflect.DeepEqual(got, want) {
				for i := range min(len(got.Changes), len(want.Changes)) {
					if !reflect.DeepEqual(got.Changes[i], want.Changes[i]) {
						t.Fatalf("change %d: %+v\nserially: %+v", i, got.Changes[i], want.Changes[i])
					}
				}
				t.Fatalf("plans differ: %d changes, serially %d; summary %+v, serially %+v", len(got.Changes), len(want.Changes), got.Summary, want.Summary)
			}
		})
	}
}

// prefillInput makes n images of the kinds TestPrefillSameAsSerial
// names, the same for the same arguments.
func prefillInput(n int, provider string, replace, store bool) Input {
	images := make([]config.Image, 0, n)
	lock := state.NewLock()
	facts := map[string]FileFact{}
	cached := map[string]bool{}
	var replaceAddrs []addrs.Addr
	for i := range n {
		a := addrs.Addr{Name: "view", Kind: addrs.StringKey, Key: fmt.Sprintf("v%05d", i)}
		img := config.Image{
			Addr: a, Prompt: fmt.Sprintf("view number %d", i), Style: "flux-schnell", AspectRatio: "16:9",
			Seed: int64(i%3) * 5, Path: fmt.Sprintf("assets/v%05d.png", i),
		}
		sum := fmt.Sprintf("%064x", i)
		e := state.Entry{
			Inputs:   state.Inputs{Prompt: img.Prompt, Style: img.Style, AspectRatio: img.AspectRatio, Seed: int64(i%3)*5 + int64(i%3/2)},
			Provider: providers.Imagine, Path: img.Path, SHA256: sum, Bytes: 100, MediaType: media.PNG, Width: 16, Height: 9,
		}
		if e.Inputs.Seed == 0 {
			e.Inputs.Seed = int64(i + 1)
		}
		fact := FileFact{Exists: true, SHA256: sum, MediaType: media.PNG}
		record := true
		switch i % 13 {
		case 1:
			img.Prompt += ", edited"
		case 2:
			fact = FileFact{}
		case 3:
			fact.SHA256 = fmt.Sprintf("%064x", i+1)
		case 4:
			img.Path = fmt.Sprintf("assets/moved/v%05d.png", i)
		case 5:
			record = false // new
		case 6:
			// recorded under another address, no longer declared
			old := addrs.Addr{Name: "old", Kind: addrs.StringKey, Key: fmt.Sprintf("o%05d", i)}
			lock.Images[old] = e
			record = false
		case 7:
			e.Provider = providers.Draft
		case 8:
			img.Candidates = 2
		case 9:
			if i > 0 {
				img.From = images[i-1].Addr
				img.Style, img.AspectRatio, img.Prompt = "", "", ""
				img.Resize = config.Resize{Width: 8, Height: 8}
			}
		case 10:
			e.MediaType = media.JPEG
			fact.MediaType = media.JPEG
		case 11:
			if replace {
				replaceAddrs = append(replaceAddrs, a)
			}
		case 12:
			img.Prompt += ", cached"
			cached[e.Inputs.Digest()+"/"+providers.Imagine] = true
		}
		if record {
			lock.Images[a] = e
		}
		facts[e.Path] = fact
		images = append(images, img)
	}
	// An entry no longer declared, with nothing to move to it.
	lock.Images[addrs.Addr{Name: "gone"}] = state.Entry{
		Inputs:   state.Inputs{Prompt: "gone", Style: "flux-schnell", AspectRatio: "1:1", Seed: 3},
		Provider: providers.Imagine, Path: "gone.png", SHA256: fmt.Sprintf("%064x", 0), Bytes: 1, MediaType: media.PNG, Width: 1, Height: 1,
	}
	seed := int64(0)
	in := Input{
		Images: images, Lock: lock, Facts: facts, Provider: provider, Replace: replaceAddrs,
		NewSeed: func() int64 { seed++; return seed },
		Cached:  func(d, p string) bool { return cached[d+"/"+p] },
	}
	if store {
		in.InStore = func(sha string) bool { return len(sha) > 0 && sha[len(sha)-1]%2 == 0 }
	}
	return in
}

// TestInputsDifferAsInputChanges: inputsDiffer is true exactly when
// inputChanges names a change, field by field.
func TestInputsDifferAsInputChanges(t *testing.T) {
	base := state.Inputs{Prompt: "a city", Style: "flux-schnell", AspectRatio: "16:9", Seed: 7, Candidates: 0}
	edits := []func(*state.Inputs){
		func(*state.Inputs) {},
		func(in *state.Inputs) { in.Prompt += "!" },
		func(in *state.Inputs) { in.Style = "anime" },
		func(in *state.Inputs) { in.AspectRatio = "1:1" },
		func(in *state.Inputs) { in.Seed = 8 },
		func(in *state.Inputs) { in.Candidates = 3 },
		func(in *state.Inputs) { in.Candidates = 1 },
		func(in *state.Inputs) { in.Transparent = true },
		func(in *state.Inputs) { in.Operation = "upscale" },
		func(in *state.Inputs) { in.Prompt, in.Seed = "", 0 },
	}
	for i, edit := range edits {
		new := base
		edit(&new)
		for _, pair := range [][2]state.Inputs{{base, new}, {new, base}} {
			if got, want := inputsDiffer(pair[0], pair[1]), len(inputChanges(pair[0], pair[1])) > 0; got != want {
				t.Errorf("edit %d: inputsDiffer = %v, inputChanges names %q", i, got, inputChanges(pair[0], pair[1]))
			}
		}
	}
}
