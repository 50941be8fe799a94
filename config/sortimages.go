package config

import "slices"

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
	slices.SortFunc(order, func(a, b int32) int {
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
