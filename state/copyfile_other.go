//go:build !linux

package state

import "os"

// copyFileAt copies the first size bytes of src to dst at dst's offset,
// leaving src's offset alone.
func copyFileAt(dst, src *os.File, size int64) error {
	return copyBuffered(dst, src, size)
}
