package planner

import (
	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/state"
)

// InputsMatch reports whether inputs are what the declaration img asks
// for: the same prompt, style and aspect ratio, and the same seed when the
// declaration sets one (an undeclared seed matches any). The path is not an
// input: a new path alone is a move, not a new render.
//
// For a derived image the declaration's operation, source, mask, resize,
// crop, quality and transparency must match too; the hashes of the source
// and mask are facts of the disk and the plan, not of the declaration,
// and are not compared.
func InputsMatch(img *config.Image, in state.Inputs) bool {
	return img.Prompt == in.Prompt && img.Style == in.Style && img.AspectRatio == in.AspectRatio &&
		(img.Seed == 0 || img.Seed == in.Seed) && candidatesOf(img) == in.Candidates &&
		img.Transparent == in.Transparent && img.Operation == in.Operation && img.Source() == in.Source &&
		img.Mask == in.Mask && ResizeString(img.Resize) == in.Resize && img.Crop == in.Crop && img.Quality == in.Quality
}
