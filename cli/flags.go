package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/pixform/pixform/views"
)

// listFlag is a repeatable string flag (-var, -target, …).
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// newFlagSet returns a flag set that reports errors instead of exiting and
// prints nothing itself: flagExit words what Parse returns. A backquoted
// word in a flag's usage string is the name of its argument in the help
// (-out FILE), so usage strings quote nothing else with backquotes.
func newFlagSet(name, usage string) *flagSet {
	fs := &flagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError)}
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: pixform [global options] %s\n", usage)
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintf(w, "\nOptions:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// flagSet is a command's flags: flag.FlagSet with a Parse that words what
// it cannot parse, and refuses the values that it can but pixform cannot
// use.
type flagSet struct {
	*flag.FlagSet
	args []string // what Parse was given, for flagExit's report
}

// Parse parses args as flag.FlagSet does. A duration or number that does
// not parse says how to write one (not the flag package's bare "parse
// error"); a negative duration (-lock-timeout=-5s) and a -parallelism
// below 1 given on the command line are refused.
func (fs *flagSet) Parse(args []string) error {
	fs.args = args
	if err := fs.FlagSet.Parse(args); err != nil {
		return fs.worded(err)
	}
	var err error
	fs.Visit(func(f *flag.Flag) {
		g, ok := f.Value.(flag.Getter)
		if !ok || err != nil {
			return
		}
		switch v := g.Get().(type) {
		case time.Duration:
			if v < 0 {
				err = fmt.Errorf("-%s=%s: a duration cannot be negative: give 0 (do not wait) or more, such as 30s", f.Name, f.Value)
			}
		case int:
			switch {
			case f.Name == "parallelism" && v < 1:
				err = fmt.Errorf("-%s=%d: must be at least 1 (leave it out for its default)", f.Name, v)
			case f.Name == "max-credits" && v < 0:
				// Left out, it is -1: no bound. Given, a negative bound
				// would be no bound too, which is not what was asked.
				err = fmt.Errorf("-%s=%d: must be 0 or more (leave it out for no bound)", f.Name, v)
			}
		}
	})
	return err
}

// worded rewords the flag package's error for a value of a duration or
// number flag that does not parse: invalid value "30" for flag
// -lock-timeout: parse error.
func (fs *flagSet) worded(err error) error {
	if name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: -"); ok && strings.TrimLeft(name, "-") == "chdir" {
		return fmt.Errorf("-chdir is a global option: it goes before the command: pixform -chdir=DIR %s …", fs.Name())
	}
	rest, ok := strings.CutPrefix(err.Error(), "invalid value ")
	if !ok {
		return err
	}
	quoted, rest, ok := strings.Cut(rest, " for flag -")
	name, _, ok2 := strings.Cut(rest, ": ")
	value, uerr := strconv.Unquote(quoted)
	f := fs.Lookup(name)
	if !ok || !ok2 || uerr != nil || f == nil {
		return err
	}
	g, _ := f.Value.(flag.Getter)
	if g == nil {
		return err
	}
	switch g.Get().(type) {
	case time.Duration:
		return fmt.Errorf("-%s=%s: not a duration: give a number with a unit, such as 30s, 2m or 1h", name, value)
	case int, int64, uint, uint64:
		return fmt.Errorf("-%s=%s: not a whole number", name, value)
	}
	return err
}

// flagExit handles an error from fs.Parse: -h and -help print the command's
// help to stdout and exit 0; anything else is an error on stderr with a hint
// to the help.
func (e *env) flagExit(fs *flagSet, err error) int {
	if e.probe != nil {
		*e.probe = fs // flagsOf's: nothing else
		return ExitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(e.stdio.Out)
		fs.Usage()
		return ExitOK
	}
	// Reported as JSON when the command's options, as far as they
	// parse and scanned on past the bad one as it parses them, ask
	// for JSON output.
	if e.jsonOut == noJSON {
		e.jsonOut = jsonAsked(jsonModeOf(fs.Name()), fs, fs.args)
	}
	return e.fail(views.WithHint(fmt.Errorf("%s: %w", fs.Name(), err), "pixform "+fs.Name()+" -h lists its options"))
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
	noCache   bool
	verbose   bool
	store     string
	// storeOp, when not "", has makePlan take the image store's lock for
	// this operation ("apply", "watch"), waiting up to storeWait, before
	// it reads the lockfile: the plan is then made with what every other
	// clone recorded in the store until then.
	storeOp   string
	storeWait time.Duration
	// storeLenient lets a plan go on without the store's facts when the
	// store fails (with a warning): plan's own, which spends nothing.
	// apply, watch and plan -check need the facts.
	storeLenient bool
	// noLockDigest spares makePlan the lockfile's digest and the
	// configuration's, which only a saved plan records (a few
	// milliseconds a megabyte).
	noLockDigest bool
}

func (s *selection) register(fs *flagSet) {
	fs.Var(&s.vars, "var", "set a variable: `NAME=VALUE` (repeatable)")
	fs.Var(&s.varFiles, "var-file", "load variable values from `FILE` (repeatable)")
	fs.Var(&s.targets, "target", "limit the plan to the image at `ADDR`, e.g. image.hero or image.icon (repeatable)")
	fs.Var(&s.replace, "replace", "render the image at `ADDR` again even if unchanged (repeatable)")
	fs.StringVar(&s.provider, "provider", "", "renderer `NAME`: imagine (default, or $PIXFORM_PROVIDER) or draft (offline placeholders)")
	fs.StringVar(&s.refresh, "refresh", "fast", "how to check files on disk (`MODE`): fast (stat cache) or full (hash every file)")
	fs.BoolVar(&s.noColor, "no-color", false, "disable colour")
	maxCreditsFlag(fs, &s.maxCredit, "refuse a plan that would spend more than `N` credits")
	fs.BoolVar(&s.noCache, "no-cache", false, "render every create and replace anew instead of restoring it from the local content cache")
	fs.BoolVar(&s.verbose, "verbose", false, "show every change of a large plan in full instead of one line each")
	storeFlag(fs, &s.store)
}

// maxCreditsFlag registers -max-credits: -1, no bound, when left out,
// which help says in words rather than as "(default -1)", a value the
// flag refuses when given.
func maxCreditsFlag(fs *flagSet, p *int, usage string) {
	fs.IntVar(p, "max-credits", -1, usage+" (no bound when left out)")
	fs.Lookup("max-credits").DefValue = "0" // the int zero: help shows no default
}

// storeFlag registers -store.
// noColorFlag adds the command-level -no-color, which does what the global
// one (before the command) does: every command takes it.
func (e *env) noColorFlag(fs *flagSet) {
	fs.BoolFunc("no-color", "disable colour", func(s string) error {
		v, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		e.noColor = e.noColor || v
		return nil
	})
}

func storeFlag(fs *flagSet, p *string) {
	fs.StringVar(p, "store", "", "the image store's `URL` (s3://BUCKET/PREFIX?region=…, gs://…, azblob://…, file:///DIR); overrides $PIXFORM_STORE and the store block")
}
