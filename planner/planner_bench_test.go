package planner

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/media"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

// benchInput builds an in-memory plan input of n images of one for_each
// block. fresh leaves the lockfile empty (every image a create); otherwise
// every image is recorded and on disk with its recorded hash (every image
// a no-op).
func benchInput(n int, fresh bool) Input {
	images := make([]config.Image, n)
	lock := state.NewLock()
	facts := make(map[string]FileFact, n)
	for i := range images {
		img := config.Image{
			Addr:   addrs.Addr{Name: "view", Kind: addrs.StringKey, Key: fmt.Sprintf("v%06d", i)},
			Prompt: fmt.Sprintf("a futuristic city at night, neon lights, view number %d", i),
			Style:  "flux-schnell", AspectRatio: "16:9",
			Path: fmt.Sprintf("assets/views/v%06d.png", i),
		}
		images[i] = img
		if fresh {
			continue
		}
		sum := fmt.Sprintf("%064x", i)
		lock.Images[addrs.MustParse(img.Addr.String())] = state.Entry{
			Inputs:   state.Inputs{Prompt: img.Prompt, Style: img.Style, AspectRatio: img.AspectRatio, Seed: int64(i + 1)},
			Provider: providers.Imagine, Path: img.Path, SHA256: sum, Bytes: 100,
			MediaType: media.PNG, Width: 16, Height: 9,
		}
		facts[img.Path] = FileFact{Exists: true, SHA256: sum}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	return Input{
		Images: images, Lock: lock, Facts: facts, Provider: providers.Imagine,
		NewSeed: func() int64 { return 1 + rng.Int64N(providers.MaxSeed) },
	}
}

// BenchmarkDiff measures the pure planner alone, without any I/O, for
// fresh and no-op plans at two sizes; ns/image should stay flat from
// 2,000 to 20,000 (a plan's cost is linear in the number of images).
func BenchmarkDiff(b *testing.B) {
	for _, fresh := range []bool{true, false} {
		for _, n := range []int{2000, 20000} {
			name := "noop"
			if fresh {
				name = "fresh"
			}
			b.Run(fmt.Sprintf("%s/%d", name, n), func(b *testing.B) {
				in := benchInput(n, fresh)
				b.ReportAllocs()
				for b.Loop() {
					p, diags := Diff(in)
					if diags.HasErrors() {
						b.Fatal(diags.Error())
					}
					if len(p.Changes) != n {
						b.Fatalf("plan has %d changes, want %d", len(p.Changes), n)
					}
					if fresh != (p.Summary.Create == n) {
						b.Fatalf("summary %+v for a fresh=%v plan of %d", p.Summary, fresh, n)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/image")
			})
		}
	}
}

// BenchmarkDiffEdited measures a plan in which every recorded image's
// prompt changed: every image a replace.
func BenchmarkDiffEdited(b *testing.B) {
	const n = 20000
	in := benchInput(n, false)
	for i := range in.Images {
		in.Images[i].Prompt += " at dusk"
	}
	b.ReportAllocs()
	for b.Loop() {
		p, diags := Diff(in)
		if diags.HasErrors() {
			b.Fatal(diags.Error())
		}
		if p.Summary.Replace != n {
			b.Fatalf("summary %+v, want %d replaces", p.Summary, n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/image")
}
