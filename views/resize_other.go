//go:build !unix

package views

import "os"

// notifyResize has no resize signal to deliver here: the width is asked
// at each redraw instead.
func notifyResize() (resized <-chan os.Signal, stop func()) {
	return nil, func() {}
}
