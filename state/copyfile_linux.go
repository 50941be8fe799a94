package state

import (
	"errors"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// copyFileTo copies the first size bytes of src to dst at offset off,
// leaving both files' offsets alone. It asks the kernel
// (copy_file_range), which copies in the page cache with no trip through
// user space; where it cannot, it copies through a buffer.
func copyFileTo(dst *os.File, off int64, src *os.File, size int64) error {
	var in int64
	for in < size {
		n, err := unix.CopyFileRange(int(src.Fd()), &in, int(dst.Fd()), &off, int(size-in), 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			if in == 0 && (errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EXDEV) || errors.Is(err, unix.EINVAL) ||
				errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EBADF)) {
				return copyBufferedTo(dst, off, src, size)
			}
			return err
		}
		if n == 0 {
			return io.ErrUnexpectedEOF // src is shorter than size
		}
	}
	return nil
}
