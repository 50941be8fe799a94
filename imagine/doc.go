// Package imagine is the executor.Provider that renders images through the
// Imagine (Vyro) text-to-image API: one multipart POST per image, the image
// streamed to the caller's writer, and every failure classified as
// throttled (429/1202), transient (5xx, resets, timeouts, bodies that are
// not a whole image), invalid (400/1100) or fatal (credentials, credits,
// an unsupported service). Nothing the server sends is
// trusted: the token never appears in an error, in any letter case, even
// when the server echoes it back in a header or body; redirects are never
// followed; bodies are capped in size and given up when they stall; and
// the client states the image bounds (pixels, shorter side, aspect ratio)
// that the executor holds each answer to before decoding it.
package imagine
