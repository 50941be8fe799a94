package state

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/pixform/pixform/internal/regfile"
)

// ReadLockFile reads the lockfile at path, which a pull request may have
// replaced: it follows no symbolic link at its name, and reads nothing but
// a regular file (a FIFO would block, a device never end), as pixform
// itself only ever writes one there. A missing file is an error that
// wraps fs.ErrNotExist.
func ReadLockFile(path string) ([]byte, error) {
	b, err := regfile.ReadFile(path, true)
	switch {
	case errors.Is(err, syscall.ELOOP):
		return nil, fmt.Errorf("%s is a symbolic link; pixform reads and writes its lockfile only as a regular file: replace the link with the file it names (or remove it to plan from nothing), then run the command again", path)
	case errors.Is(err, regfile.ErrNotRegular):
		return nil, fmt.Errorf("%s is not a regular file; pixform reads and writes its lockfile only as a regular file: remove it (or put the lockfile back from version control), then run the command again", path)
	}
	return b, err
}
