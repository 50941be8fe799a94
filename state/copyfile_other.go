//go:build !linux

package state

import "os"

// copyFileTo copies the first size bytes of src to dst at offset off,
// leaving both files' offsets alone.
func copyFileTo(dst *os.File, off int64, src *os.File, size int64) error {
	return copyBufferedTo(dst, off, src, size)
}
