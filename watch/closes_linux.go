package watch

import (
	"fmt"
	"os"
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/unix"
)

// closesSupported says that this system reports when a writer closes a
// file, so that a save can be taken as soon as it has settled.
const closesSupported = true

// closeWatch reports, for the files of some directories, each close of a
// file that was open for writing and each file renamed into place: the
// moments a save is whole. fsnotify v1.10 implements inotify's
// IN_CLOSE_WRITE but does not export it, so this is a second inotify
// instance of its own, for those two events only.
type closeWatch struct {
	f    *os.File
	dirs map[int]string // watch descriptor → directory
}

// closed is one such event: the file's absolute path and what a stat of
// it said when the event was read (nil if it was already gone).
type closed struct {
	path string
	fi   os.FileInfo
}

func newCloseWatch(dirs []string) (*closeWatch, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("start close notifications: %w", err)
	}
	c := &closeWatch{f: os.NewFile(uintptr(fd), "inotify"), dirs: map[int]string{}}
	for _, d := range dirs {
		wd, err := unix.InotifyAddWatch(fd, d, unix.IN_CLOSE_WRITE|unix.IN_MOVED_TO|unix.IN_ONLYDIR)
		if err != nil {
			c.f.Close()
			return nil, fmt.Errorf("watch directory %s for closes: %w", d, err)
		}
		c.dirs[wd] = d
	}
	return c, nil
}

// run sends each event on out whose path wanted accepts, until the watch
// is closed or quit is.
func (c *closeWatch) run(out chan<- closed, wanted func(string) bool, quit <-chan struct{}) {
	var buf [16 * (unix.SizeofInotifyEvent + unix.NAME_MAX + 1)]byte
	for {
		n, err := c.f.Read(buf[:])
		if err != nil {
			// Closed, or broken: without these events every save
			// waits the full debounce, as where there are none.
			return
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			raw := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			end := off + unix.SizeofInotifyEvent + int(raw.Len)
			if end > n {
				break // the kernel reads whole events; this is not one
			}
			name := buf[off+unix.SizeofInotifyEvent : end]
			off = end
			dir, ok := c.dirs[int(raw.Wd)]
			if !ok || raw.Mask&(unix.IN_CLOSE_WRITE|unix.IN_MOVED_TO) == 0 {
				continue
			}
			for i, b := range name {
				if b == 0 {
					name = name[:i]
					break
				}
			}
			p := filepath.Join(dir, string(name))
			if !wanted(p) {
				continue // the lockfile, an output, an editor's temporary file
			}
			fi, err := os.Stat(p)
			if err != nil {
				fi = nil
			}
			select {
			case out <- closed{path: p, fi: fi}:
			case <-quit:
				return
			}
		}
	}
}

func (c *closeWatch) Close() error { return c.f.Close() }
