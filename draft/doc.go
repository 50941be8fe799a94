// Package draft is the offline executor.Provider: it renders a deterministic
// placeholder for each image — a soft two-colour gradient hashed from the
// image's inputs, a faint grid and frame, the prompt word-wrapped, and the
// address, seed, style and ratio in a footer under a "DRAFT" mark — at the
// image's aspect ratio, so that layouts can be built without a token or a
// network. Renderer.Edit does the same for the edit endpoints (a cut-out
// with real alpha, a 2× upscale, a tinted fill, a background behind the
// alpha, a transparent text-to-PNG). The same inputs always give
// byte-identical output.
package draft
