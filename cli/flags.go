package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// listFlag is a repeatable string flag (-var, -target, …).
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// newFlagSet returns a flag set that reports errors instead of exiting and
// prints usage to w.
func newFlagSet(name, usage string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(w)
	fs.Usage = func() {
		fmt.Fprintf(w, "Usage: pixform [global options] %s\n\nOptions:\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// selection holds the flags that decide what a plan covers, shared by plan,
// apply and watch.
type selection struct {
	vars      listFlag
	varFiles  listFlag
	targets   listFlag
	replace   listFlag
	provider  string
	refresh   string
	noColor   bool
	maxCredit int
}

func (s *selection) register(fs *flag.FlagSet) {
	fs.Var(&s.vars, "var", "set a variable: -var 'name=value' (repeatable)")
	fs.Var(&s.varFiles, "var-file", "load variable values from a file (repeatable)")
	fs.Var(&s.targets, "target", "limit the plan to an image address, e.g. image.hero or image.icon (repeatable)")
	fs.Var(&s.replace, "replace", "render this image again even if unchanged (repeatable)")
	fs.StringVar(&s.provider, "provider", "", "renderer: imagine (default, or $PIXFORM_PROVIDER) or draft (offline placeholders)")
	fs.StringVar(&s.refresh, "refresh", "fast", "how to check files on disk: fast (stat cache) or full (hash every file)")
	fs.BoolVar(&s.noColor, "no-color", false, "disable colour")
	fs.IntVar(&s.maxCredit, "max-credits", -1, "refuse a plan that would spend more than N credits")
}
