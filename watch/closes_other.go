//go:build !linux

package watch

// closesSupported says that this system reports when a writer closes a
// file; here it does not, and every save waits the full debounce.
const closesSupported = false

type closeWatch struct{}

type fileEvent struct {
	seq  uint64
	shut bool
}

func newCloseWatch([]string) (*closeWatch, error) { return nil, nil }

func (c *closeWatch) wait(chan<- struct{}, <-chan struct{}) {}

func (c *closeWatch) drain(func(string) bool) bool { return false }

func (c *closeWatch) state(string) (fileEvent, bool) { return fileEvent{}, false }

func (c *closeWatch) Close() error { return nil }
