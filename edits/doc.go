// Package edits is the one definition of the vendor's image endpoints
// beside text-to-image: the operations a derived image may name, the
// endpoint each one calls, the URL of that endpoint (found beside the
// text-to-image URL), the fields each one requires or accepts, and the
// Request that carries one edit to a renderer.
package edits
