package safepath

import (
	"errors"
	"strings"
	"testing"
)

// On Windows, Check refuses a path that Windows would open as another
// file, a stream or a device: GIT~1 opens .git, a.png. opens a.png,
// NUL.png is the null device, a.png:x is a stream beside a.png's bytes.
func TestCheckWindowsNames(t *testing.T) {
	for _, p := range []string{
		"GIT~1/hooks/a.png",
		"PIXFOR~1/cache/a.png",
		"images/a.png.",
		"images/nul.png",
		"images/a.png:x",
		"a.png::$DATA",
	} {
		err := Check(p)
		var pe *Error
		if !errors.As(err, &pe) || pe.Reason != WinName {
			t.Errorf("Check(%q) = %v, want a WinName error", p, err)
			continue
		}
		if !strings.Contains(err.Error(), "Windows") {
			t.Errorf("Check(%q): %q does not say it is Windows that acts on the name", p, err)
		}
	}
	if err := Check("images/hero~draft.png"); err != nil {
		t.Errorf("Check of a plain name: %v", err)
	}
}
