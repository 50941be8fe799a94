package config

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/pixform/pixform/addrs"
)

// TestSortImages: sortImages orders images as a stable sort by address
// does, whatever the order and repeats of the addresses.
func TestSortImages(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 3, 10, 100, 1000, parallelSortFrom - 1, parallelSortFrom, 10001} {
		for round := range 5 {
			images := make([]Image, n)
			for i := range images {
				var a addrs.Addr
				switch r.IntN(3) {
				case 0:
					a = addrs.Addr{Name: fmt.Sprintf("img%d", r.IntN(n+1))}
				case 1:
					a = addrs.Addr{Name: "v", Kind: addrs.StringKey, Key: fmt.Sprint(r.IntN(n + 1))}
				default:
					a = addrs.Addr{Name: "c", Kind: addrs.IntKey, Index: r.IntN(n + 1)}
				}
				images[i] = Image{Addr: a, Prompt: fmt.Sprint(i)}
			}
			if round == 4 { // already in order
				slices.SortStableFunc(images, func(a, b Image) int { return a.Addr.Compare(b.Addr) })
			}
			want := slices.Clone(images)
			slices.SortStableFunc(want, func(a, b Image) int { return a.Addr.Compare(b.Addr) })
			sortImages(images)
			for i := range images {
				if images[i].Addr != want[i].Addr || images[i].Prompt != want[i].Prompt {
					t.Fatalf("n=%d round %d: at %d got %v (%s), want %v (%s)", n, round, i, images[i].Addr, images[i].Prompt, want[i].Addr, want[i].Prompt)
				}
			}
		}
	}
}
