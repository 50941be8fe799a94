//go:build unix

package views

import (
	"os"
	"os/signal"
	"syscall"
)

// notifyResize delivers the terminal's resize signal (SIGWINCH) until
// stop is called.
func notifyResize() (resized <-chan os.Signal, stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGWINCH)
	return ch, func() { signal.Stop(ch) }
}
