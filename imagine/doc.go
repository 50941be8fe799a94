// Package imagine is the executor.Provider that renders images through the
// Imagine (Vyro) text-to-image API: one multipart POST per image, the image
// streamed to the caller's writer, and every failure classified per SPEC.md
// (throttled, transient, invalid or fatal). The API token never appears in
// an error, even when the server echoes it back.
package imagine
