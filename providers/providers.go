// Package providers names the renderers pixform knows. A name is recorded
// in plans, lockfile entries and content cache file names, and selected
// with -provider; this package is its one definition.
package providers

// The provider names.
const (
	// Imagine is the Imagine text-to-image API (package imagine), also the
	// label of the provider block in the configuration.
	Imagine = "imagine"
	// Draft is the offline placeholder renderer (package draft).
	Draft = "draft"
)

// MaxSeed is the largest seed a renderer accepts; seeds run from 1 to
// MaxSeed (the vendor's unsigned 32-bit range).
const MaxSeed = 4294967295

// Known reports whether name is one of the provider names.
func Known(name string) bool { return name == Imagine || name == Draft }
