package config

import (
	"runtime"
	"slices"
	"sync"
)

// sortImages sorts images by address, stably. An Image is a few hundred
// bytes: the sort moves indices, and then each image once into its place,
// rather than swapping images.
func sortImages(images []Image) {
	byAddr := func(a, b Image) int { return a.Addr.Compare(b.Addr) }
	if slices.IsSortedFunc(images, byAddr) {
		return
	}
	order := make([]int32, len(images))
	for i := range order {
		order[i] = int32(i)
	}
	order = sortOrder(order, func(a, b int32) int {
		if c := images[a].Addr.Compare(images[b].Addr); c != 0 {
			return c
		}
		return int(a - b)
	})
	// Place k gets the image at order[k]: follow each cycle of the
	// permutation once, marking the places filled.
	for k := range order {
		if order[k] < 0 {
			continue
		}
		held := images[k]
		j := k
		for {
			src := int(order[j])
			order[j] = -1
			if src == k {
				images[j] = held
				break
			}
			images[j] = images[src]
			j = src
		}
	}
}

// parallelSortFrom is the fewest images sortOrder sorts in two halves at
// once.
const parallelSortFrom = 4096

// sortOrder sorts order by cmp, a total order (no two elements compare
// equal), and returns it sorted: with more than one CPU and
// parallelSortFrom elements, each half is sorted on a goroutine of its
// own and the halves merged, which gives the same order.
func sortOrder(order []int32, cmp func(a, b int32) int) []int32 {
	if len(order) < parallelSortFrom || runtime.GOMAXPROCS(0) < 2 {
		slices.SortFunc(order, cmp)
		return order
	}
	h := len(order) / 2
	lo, hi := order[:h], order[h:]
	var wg sync.WaitGroup
	wg.Go(func() { slices.SortFunc(lo, cmp) })
	slices.SortFunc(hi, cmp)
	wg.Wait()
	out := make([]int32, 0, len(order))
	i, j := 0, 0
	for i < len(lo) && j < len(hi) {
		if cmp(lo[i], hi[j]) < 0 {
			out = append(out, lo[i])
			i++
		} else {
			out = append(out, hi[j])
			j++
		}
	}
	out = append(out, lo[i:]...)
	return append(out, hi[j:]...)
}
