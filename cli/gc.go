package cli

import (
	"strings"

	"github.com/pixform/pixform/config"
)

// GCPercentFor returns the garbage collection target (for
// debug.SetGCPercent) that the process should run args with, and false
// when the default suits. Loading a large configuration is
// allocation-bound and the heap it leaves is small and short-lived, so
// validate and plan collect less often; apply and watch keep their memory
// bounded and keep the default. Main itself changes no process-wide
// setting: the process sets this up before calling it.
func GCPercentFor(args []string) (percent int, ok bool) {
	// Main reads global options until the first argument that does not
	// start with "-": that argument is the command.
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			continue
		}
		switch a {
		case "validate", "plan":
			return loadGCPercent(chdirOf(args)), true
		}
		return 0, false
	}
	return 0, false
}

// chdirOf returns the working directory that args' global -chdir=DIR
// names, as Main reads it, "." without one.
func chdirOf(args []string) string {
	dir := "."
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			break
		}
		if d, ok := strings.CutPrefix(a, "-chdir="); ok {
			dir = d
		}
	}
	return dir
}

// loadGCPercent is the garbage collection target of validate and plan in
// dir. Loading is allocation-bound: a small configuration's heap is small
// and short-lived, so it collects less often (400). A large one keeps
// about a kilobyte an image while it is planned, and its peak is that
// times 1 + percent/100: 50 holds 330,000 images to 1.8 KB an image of
// peak RSS (400 let it reach 12 KB, 100 2.5 KB), for about a fifth more
// CPU time than 100.
func loadGCPercent(dir string) int {
	if config.Large(dir) {
		return 50
	}
	return 400
}
