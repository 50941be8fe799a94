// Package draft is the offline executor.Provider: it renders a deterministic
// placeholder for each image — a soft two-colour gradient hashed from the
// image's inputs, a faint grid and frame, the prompt word-wrapped, and the
// address, seed, style and ratio in a footer under a "DRAFT" mark — at the
// image's aspect ratio, so that layouts can be built without a token or a
// network. The same inputs always give byte-identical output.
package draft
