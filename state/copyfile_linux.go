package state

import (
	"errors"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// copyFileAt copies the first size bytes of src to dst at dst's offset,
// leaving src's offset alone. It asks the kernel (copy_file_range), which
// shares the blocks where the file system can (a reflink on XFS and Btrfs)
// and else copies in the page cache with no trip through user space; where
// it cannot, it copies through a buffer.
func copyFileAt(dst, src *os.File, size int64) error {
	var off int64
	for off < size {
		n, err := unix.CopyFileRange(int(src.Fd()), &off, int(dst.Fd()), nil, int(size-off), 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			if off == 0 && (errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EXDEV) || errors.Is(err, unix.EINVAL) ||
				errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EBADF)) {
				return copyBuffered(dst, src, size)
			}
			return err
		}
		if n == 0 {
			return io.ErrUnexpectedEOF // src is shorter than size
		}
	}
	return nil
}
