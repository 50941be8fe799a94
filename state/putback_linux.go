package state

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// errNoUnnamed says that the file system makes no unnamed files.
var errNoUnnamed = errors.New("the file system makes no unnamed files (O_TMPFILE)")

// openUnnamed makes an unnamed file in the directory of target
// (O_TMPFILE): it vanishes when closed unless linkFile names it first, so
// a kill leaves nothing behind.
// mode is the file's mode, which the umask may still narrow.
func openUnnamed(target string, mode uint32) (*os.File, error) {
	dir := filepath.Dir(target)
	for {
		fd, err := unix.Open(dir, unix.O_RDWR|unix.O_TMPFILE|unix.O_CLOEXEC, mode)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case err == nil:
			return os.NewFile(uintptr(fd), unnamedName(target)), nil
		case errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.EISDIR), errors.Is(err, unix.EINVAL):
			return nil, errNoUnnamed
		}
		return nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
}

// umaskKeeps0644 reports whether the process's umask leaves a file made
// with mode 0644 at 0644, as /proc/self/status says (reading the umask
// with umask(2) would change it for a moment for every goroutine).
func umaskKeeps0644() bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "Umask:"); ok {
			m, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32)
			return err == nil && m&0o644 == 0
		}
	}
	return false
}

// linkFile gives the open file f the name name, which must not exist
// (an error that is os.ErrExist otherwise): linkat(2) of its
// /proc/self/fd entry, which names an unnamed file too.
func linkFile(f *os.File, name string) error {
	old := "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
	for {
		err := unix.Linkat(unix.AT_FDCWD, old, unix.AT_FDCWD, name, unix.AT_SYMLINK_FOLLOW)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return &os.LinkError{Op: "link", Old: f.Name(), New: name, Err: err}
		}
		return nil
	}
}
