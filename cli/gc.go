package cli

import "strings"

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
			return 400, true
		}
		return 0, false
	}
	return 0, false
}
