//go:build !linux

package watch

import "os"

// closesSupported says that this system reports when a writer closes a
// file; here it does not, and every save waits the full debounce.
const closesSupported = false

type closeWatch struct{}

type closed struct {
	path string
	fi   os.FileInfo
}

func newCloseWatch([]string) (*closeWatch, error) { return nil, nil }

func (c *closeWatch) run(chan<- closed, func(string) bool, <-chan struct{}) {}

func (c *closeWatch) Close() error { return nil }
