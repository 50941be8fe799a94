package watch

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// closesSupported says that this system reports when a writer closes a
// file, so that a save can be taken as soon as it has settled.
const closesSupported = true

// closeWatchEvents are the events of the configuration files that
// closeWatch orders: a write (or truncation), a close of a file open for
// writing, and the moves and creations and deletions that change which
// file is at a name. Only a close and a rename into place leave a file
// settled; any other event after them unsettles it.
const closeWatchEvents = unix.IN_MODIFY | unix.IN_CLOSE_WRITE | unix.IN_MOVED_TO |
	unix.IN_MOVED_FROM | unix.IN_CREATE | unix.IN_DELETE

// closeWatch orders, for the files of some directories, the writes, the
// closes of files open for writing and the renames: fsnotify v1.10
// implements inotify's IN_CLOSE_WRITE but does not export it, so this is
// a second inotify instance of its own. Its events are in one queue, in
// the order they happened, and the Watcher's goroutine alone reads it
// (drain), so that what it says about a file is what the kernel had
// queued when it was asked: a file is settled when its last event is a
// close or a rename into place. wait only says when there is something
// to read.
type closeWatch struct {
	fd   int // the inotify instance, non-blocking
	wake int // an eventfd that Close writes to end wait
	dirs map[int]string
	buf  []byte

	seq    uint64               // numbers the events of configuration files
	last   map[string]fileEvent // each configuration file's last event, by absolute path
	broken bool                 // a read failed: nothing is known any more

	quit    chan struct{} // closed by Close
	waiting sync.WaitGroup
}

// fileEvent is the last event of one file: its number in the queue, and
// whether it was a close or a rename into place.
type fileEvent struct {
	seq  uint64
	shut bool
}

func newCloseWatch(dirs []string) (*closeWatch, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("start close notifications: %w", err)
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("start close notifications: %w", err)
	}
	c := &closeWatch{fd: fd, wake: wake, dirs: map[int]string{}, last: map[string]fileEvent{}, quit: make(chan struct{}),
		buf: make([]byte, 64*(unix.SizeofInotifyEvent+unix.NAME_MAX+1))}
	for _, d := range dirs {
		wd, err := unix.InotifyAddWatch(fd, d, closeWatchEvents|unix.IN_ONLYDIR)
		if err != nil {
			unix.Close(fd)
			unix.Close(wake)
			return nil, fmt.Errorf("watch directory %s for closes: %w", d, err)
		}
		c.dirs[wd] = d
	}
	return c, nil
}

// wait sends on ready whenever events are queued, and then waits for
// drained (the Watcher has read them) before it looks again, until the
// watch is closed.
func (c *closeWatch) wait(ready chan<- struct{}, drained <-chan struct{}) {
	c.waiting.Add(1)
	go func() {
		defer c.waiting.Done()
		for {
			fds := []unix.PollFd{{Fd: int32(c.fd), Events: unix.POLLIN}, {Fd: int32(c.wake), Events: unix.POLLIN}}
			if _, err := unix.Poll(fds, -1); err != nil {
				if errors.Is(err, unix.EINTR) {
					continue
				}
				return // without these events every save waits the full debounce
			}
			if fds[1].Revents != 0 || fds[0].Revents&(unix.POLLERR|unix.POLLHUP|unix.POLLNVAL) != 0 {
				return
			}
			if fds[0].Revents&unix.POLLIN == 0 {
				continue
			}
			// The Watcher takes ready (or ends, and Close wakes us).
			select {
			case ready <- struct{}{}:
			case <-c.quit:
				return
			}
			select {
			case <-drained:
			case <-c.quit:
				return
			}
		}
	}()
}

// drain reads every event queued, in order, and records the last of each
// file that wanted accepts (a configuration file). It reports whether one
// of them was a close or a rename into place.
func (c *closeWatch) drain(wanted func(string) bool) (shut bool) {
	for !c.broken {
		n, err := unix.Read(c.fd, c.buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.EAGAIN) {
			return shut
		}
		if err != nil || n <= 0 {
			// Broken: from now on every save waits the full debounce,
			// as where there are no close notifications.
			c.broken = true
			clear(c.last)
			return false
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			raw := (*unix.InotifyEvent)(unsafe.Pointer(&c.buf[off]))
			end := off + unix.SizeofInotifyEvent + int(raw.Len)
			if end > n {
				break // the kernel reads whole events; this is not one
			}
			name := c.buf[off+unix.SizeofInotifyEvent : end]
			off = end
			if raw.Mask&unix.IN_Q_OVERFLOW != 0 {
				// Events were lost: no file is known to be settled, or
				// unchanged since a save was taken.
				c.seq++
				clear(c.last)
				continue
			}
			dir, ok := c.dirs[int(raw.Wd)]
			if !ok || raw.Mask&closeWatchEvents == 0 {
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
			c.seq++
			closed := raw.Mask&(unix.IN_CLOSE_WRITE|unix.IN_MOVED_TO) != 0
			c.last[p] = fileEvent{seq: c.seq, shut: closed}
			shut = shut || closed
		}
	}
	return false
}

// state returns the last event of the file at p read by drain; ok is false
// when none is known.
func (c *closeWatch) state(p string) (fileEvent, bool) {
	if c.broken {
		return fileEvent{}, false
	}
	ev, ok := c.last[p]
	return ev, ok
}

// Close ends wait and closes the instance. Call it once.
func (c *closeWatch) Close() error {
	close(c.quit)
	one := uint64(1) // adds one to the eventfd's counter: wait wakes up
	unix.Write(c.wake, (*[8]byte)(unsafe.Pointer(&one))[:])
	c.waiting.Wait()
	err := unix.Close(c.fd)
	unix.Close(c.wake)
	return err
}
