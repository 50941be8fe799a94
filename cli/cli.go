package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/views"
)

// Version is pixform's version, set at build time with
// -ldflags "-X github.com/pixform/pixform/cli.Version=…".
var Version = "0.1.0-dev"

// Exit codes.
const (
	ExitOK      = 0
	ExitError   = 1
	ExitChanges = 2 // plan -detailed-exitcode with changes
	ExitFmt     = 3 // fmt -check found files to format (as terraform fmt -check)
)

// Stdio is the process's world as the CLI sees it, injected so that tests
// can run Main in-process.
type Stdio struct {
	In       io.Reader
	Out, Err io.Writer
	Environ  []string
	// InTerminal and ErrTerminal say whether stdin and stderr are
	// terminals; OutTerminal whether stdout is.
	InTerminal, OutTerminal, ErrTerminal bool
	// Stop is closed on the first interrupt: start nothing new, let in-flight
	// work finish and be recorded. The context passed to Main is cancelled on
	// the second.
	Stop <-chan struct{}
}

// env is what every command gets: the resolved working directory, stdio,
// and the global options.
type env struct {
	ctx     context.Context
	stdio   Stdio
	dir     string
	noColor bool
	// lines delivers stdin's lines to readLine, from its first call.
	linesOnce sync.Once
	lines     chan string
	// link is the image store, once a command opened it (closeStore).
	link *linked
	// jsonOut is how a command given -json reports a failure on stdout
	// besides stderr's text: as plan -json's document, or as apply
	// -json's error event.
	jsonOut jsonMode
	// line is the command line, for a bad global option's report
	// (askedJSON).
	line []string
	// probe, when not nil, makes flagExit hand over the flag set it is
	// given and do nothing else (flagsOf).
	probe **flagSet
	// flushStore, when not nil, stands in for the image store's Flush,
	// which makes durable the objects a check found there (uploads make
	// theirs durable within the store): a test's, failing as a disk does.
	flushStore func(ctx context.Context) error
}

func (e *env) getenv(key string) string {
	prefix := key + "="
	for i := len(e.stdio.Environ) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(e.stdio.Environ[i], prefix); ok {
			return v
		}
	}
	return ""
}

// color reports whether output to a stream should be coloured: it is a
// terminal, and neither the command's -no-color (disabled), the global
// -no-color, NO_COLOR nor TERM=dumb says otherwise.
func (e *env) color(disabled bool, terminal bool) bool {
	return terminal && !disabled && !e.noColor && e.getenv("NO_COLOR") == "" && e.getenv("TERM") != "dumb"
}

// fail prints err to stderr and returns ExitError. errConfig, whose
// diagnostics were printed already, is not printed again.
func (e *env) fail(err error) int {
	if err != errConfig {
		views.WriteError(e.stdio.Err, err, e.color(false, e.stdio.ErrTerminal))
		e.failJSON(views.NewJSONFailure(err, nil))
	}
	return ExitError
}

// jsonMode is which JSON output a command writes on stdout.
type jsonMode uint8

const (
	noJSON       jsonMode = iota
	jsonPlan              // plan -json: one document
	jsonEvents            // apply -json: one event a line
	jsonValidate          // validate -json: the validation document
	jsonDoc               // show -json, version -json: one document, as plan's
)

// failJSON writes f on stdout as the command's JSON output gives a
// failure, when it was given -json.
func (e *env) failJSON(f views.JSONFailure) {
	switch e.jsonOut {
	case jsonPlan, jsonDoc:
		views.WritePlanFailureJSON(e.stdio.Out, f)
	case jsonEvents:
		views.WriteFailureEvent(e.stdio.Out, f, time.Now())
	case jsonValidate:
		views.WriteValidationFailureJSON(e.stdio.Out, f)
	}
}

// jsonModeOf is how the command cmd, given -json, reports a failure on
// stdout; noJSON for a command without -json.
func jsonModeOf(cmd string) jsonMode {
	switch cmd {
	case "plan":
		return jsonPlan
	case "apply":
		return jsonEvents
	case "validate":
		return jsonValidate
	case "show", "version":
		return jsonDoc
	}
	return noJSON
}

// askedJSON returns how a bad global option (or -chdir) of the command
// line args is reported on stdout: as the command's JSON failure when
// its options, scanned as the command parses them (jsonAsked), ask for
// JSON output, or when -json (-format=json) stands before the command.
func (e *env) askedJSON(args []string) jsonMode {
	before := false // -json before the command
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		a := args[0]
		if a == "-json" || a == "--json" || a == "-format=json" || a == "--format=json" {
			before = true
		}
		if (a == "-chdir" || a == "--chdir") && len(args) > 1 {
			// Refused, but its directory is not the command.
			args = args[1:]
		}
		args = args[1:] // global options
	}
	if len(args) == 0 {
		return noJSON
	}
	mode := jsonModeOf(args[0])
	if mode == noJSON || before {
		return mode
	}
	fs := e.flagsOf(args[0])
	if fs == nil {
		return noJSON
	}
	return jsonAsked(mode, fs, args[1:])
}

// flagsOf returns the flag set of the command cmd as it defines it, or
// nil for a command without -json: the command is asked for its help
// with a probe, which hands over its flags and does nothing else.
func (e *env) flagsOf(cmd string) *flagSet {
	var fs *flagSet
	p := &env{ctx: e.ctx, stdio: Stdio{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard}, probe: &fs}
	help := []string{"-h"}
	switch cmd {
	case "plan":
		p.plan(help)
	case "apply":
		p.apply(help)
	case "validate":
		p.validate(help)
	case "show":
		p.show(help)
	case "version":
		p.version(help)
	}
	return fs
}

// jsonAsked returns mode when the options args of a command whose flags
// are fs ask for JSON output as the command decides it (-json, or
// -format=json), else noJSON. args are scanned as fs parses them, a flag that takes a value
// taking the next argument (plan -var -json: -json is -var's value), and
// on past an argument that is not an option or one fs does not know, to
// find a -json that a bad option before it kept the parser from.
func jsonAsked(mode jsonMode, fs *flagSet, args []string) jsonMode {
	set := map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if len(a) < 2 || a[0] != '-' {
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimPrefix(a[1:], "-"), "=")
		f := fs.Lookup(name)
		if f == nil {
			continue // the bad option, or another
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			on := true
			if hasVal {
				v, err := strconv.ParseBool(val)
				if err != nil {
					continue
				}
				on = v
			}
			set[name] = strconv.FormatBool(on)
			continue
		}
		if !hasVal {
			if i+1 == len(args) {
				break
			}
			i++
			val = args[i]
		}
		set[name] = val
	}
	if set["json"] != "true" && set["format"] != "json" {
		return noJSON
	}
	return mode
}

// failFlags reports a bad global option on the command line: as text on
// stderr, and as the command's JSON failure on stdout when the line asks
// for JSON output (askedJSON).
func (e *env) failFlags(err error) int {
	if e.jsonOut == noJSON {
		e.jsonOut = e.askedJSON(e.line)
	}
	return e.fail(err)
}

const usage = `Usage: pixform [global options] <command> [options]

pixform declares generated images in *.pix.hcl files, plans what changed
against pixform.lock.json, and renders only that.

Main commands:
  validate   Check the configuration
  plan       Show what apply would render, move and delete, and what it costs
  apply      Render what the plan says and record it in the lockfile
  watch      Plan and apply on every save of the configuration
  pick       Put one of an image's candidate takes at its path
  approve    Record that you reviewed images, for -require-approval

Other commands:
  fmt        Rewrite *.pix.hcl files in canonical format
  show       Show what the lockfile (or a saved plan) records
  state      Inspect and edit the lockfile (list, rm)
  lock       Lockfile tools for git (merge)
  gallery    Write an HTML contact sheet of every image
  version    Print the version

Image store commands (a store shared by a team: the store block, -store=URL
or PIXFORM_STORE):
  pull          Download the recorded images missing or different here
  push          Upload the recorded images the store lacks
  force-unlock  Remove the store lock of a pixform that is no longer running

Global options:
  -chdir=DIR  Switch to DIR before anything else
  -no-color   Disable colour

pixform COMMAND -h (or pixform help COMMAND) shows a command's options.
`

// Main runs pixform with args (without the program name) and returns the
// exit code.
func Main(ctx context.Context, args []string, stdio Stdio) int {
	return (&env{ctx: ctx, stdio: stdio}).main(args)
}

// main is Main with e, made with its context and stdio (and, in a test,
// its seams).
func (e *env) main(args []string) int {
	stdio := e.stdio
	if stdio.Stop == nil {
		e.stdio.Stop = make(chan struct{})
	}
	dir := "."
	e.line = args
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		a := args[0]
		switch {
		case strings.HasPrefix(a, "-chdir="):
			dir = strings.TrimPrefix(a, "-chdir=")
		case a == "-no-color":
			e.noColor = true
		case isHelpFlag(a):
			fmt.Fprint(stdio.Out, usage)
			return ExitOK
		case a == "-v" || a == "-version" || a == "--version":
			args = []string{"version"}
			continue
		case a == "-chdir" || a == "--chdir":
			return e.failFlags(views.WithHint(errors.New("the global option -chdir takes its directory after an equals sign"), "pixform -chdir=DIR plan"))
		default:
			if cmd, opt, ok := commandOption(args); ok {
				// -json before the command: say where it goes.
				return e.failFlags(fmt.Errorf("unknown global option %s: %s goes after the command: pixform %s %s", a, opt, cmd, a))
			}
			fmt.Fprint(stdio.Err, usage)
			return e.failFlags(fmt.Errorf("unknown global option %s: global options come before the command (pixform -chdir=DIR plan)", a))
		}
		args = args[1:]
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return e.failFlags(fmt.Errorf("-chdir=%s: %w", dir, err))
	}
	if err := checkDir(dir, abs); err != nil {
		return e.failFlags(err)
	}
	e.dir = abs
	if len(args) == 0 {
		fmt.Fprint(stdio.Err, usage)
		return ExitError
	}
	cmd, rest := args[0], args[1:]
	if cmd == "help" && len(rest) > 0 {
		// pixform help plan is pixform plan -h.
		cmd, rest = rest[0], []string{"-h"}
	}
	if text, ok := plainHelp(cmd); ok && len(rest) > 0 && isHelpFlag(rest[0]) {
		fmt.Fprint(stdio.Out, text)
		return ExitOK
	}
	switch cmd {
	case "validate":
		return e.validate(rest)
	case "plan":
		return e.plan(rest)
	case "apply":
		return e.apply(rest)
	case "watch":
		return e.watch(rest)
	case "fmt":
		return e.fmt(rest)
	case "show":
		return e.show(rest)
	case "state":
		return e.state(rest)
	case "lock":
		return e.lock(rest)
	case "gallery":
		return e.gallery(rest)
	case "pick":
		return e.pick(rest)
	case "approve":
		return e.approve(rest)
	case "pull":
		return e.pull(rest)
	case "push":
		return e.push(rest)
	case "force-unlock":
		return e.forceUnlock(rest)
	case "version":
		return e.version(rest)
	case "help":
		fmt.Fprint(stdio.Out, usage)
		return ExitOK
	}
	hint := "pixform -h lists the commands"
	if s := config.Suggest(cmd, commands()); s != "" {
		hint = "did you mean pixform " + s + "? " + hint
	}
	return e.fail(views.WithHint(fmt.Errorf("unknown command %q", cmd), hint))
}

// commandOption reports whether args[0], a bad global option, is an
// option of the command that follows the global options (-json before
// plan): that command and the option's name.
func commandOption(args []string) (cmd, opt string, ok bool) {
	rest := afterGlobals(args)
	if len(rest) == 0 {
		return "", "", false
	}
	name, _, _ := strings.Cut(strings.TrimPrefix(args[0][1:], "-"), "=")
	fs := (&env{}).flagsOf(rest[0])
	if fs == nil || fs.Lookup(name) == nil {
		return "", "", false
	}
	return rest[0], "-" + name, true
}

// StopsGracefully reports whether the command of args (global options
// first, as Main takes them) honours Stdio.Stop: a first interrupt lets
// its work in flight finish and be recorded (apply, watch). The others
// do not watch Stop: a SIGHUP keeps its default action for them.
func StopsGracefully(args []string) bool {
	args = afterGlobals(args)
	return len(args) > 0 && (args[0] == "apply" || args[0] == "watch")
}

// afterGlobals returns args from the command on: past the options before
// it, and past the directory of a -chdir DIR (refused, but its directory
// is not the command).
func afterGlobals(args []string) []string {
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		if (args[0] == "-chdir" || args[0] == "--chdir") && len(args) > 1 {
			args = args[1:]
		}
		args = args[1:]
	}
	return args
}

// commands returns the command names, for did-you-mean.
func commands() []string {
	return []string{"validate", "plan", "apply", "watch", "fmt", "show", "state", "lock", "gallery", "pull", "push", "force-unlock", "pick", "approve", "version", "help"}
}

// plainHelp returns the help of a command that has subcommands or no flags,
// and so no flag set to print it.
func plainHelp(cmd string) (string, bool) {
	switch cmd {
	case "state":
		return `Usage: pixform [global options] state <subcommand> [options] [ADDR…]

Inspect and edit the lockfile, pixform.lock.json.

Subcommands:
  list [ADDR…]   List the recorded addresses; an ADDR such as image.icon
                 also lists its instances (image.icon["home"], …)
  rm ADDR…       Forget images: remove their entries, leave their files
`, true
	case "lock":
		return `Usage: pixform [global options] lock merge [-no-color] BASE OURS THEIRS

A git merge driver for pixform.lock.json: merges entry by entry and marks a
conflict only where both sides changed the same image. git passes the three
versions (%O %A %B); the result is written over OURS. Set it up with the
line "pixform.lock.json merge=pixform" in .gitattributes, and in each clone:

  git config merge.pixform.name "pixform lockfile merge"
  git config merge.pixform.driver "pixform lock merge %O %A %B"
`, true
	case "version":
		return `Usage: pixform version [-json]

Print pixform's version, and the Go version and platform it was built for
(-json: as one JSON object).
`, true
	case "help":
		return usage, true
	}
	return "", false
}

// isHelpFlag reports whether arg asks for help.
func isHelpFlag(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help"
}

// checkDir says why -chdir=dir (abs once resolved) cannot be the working
// directory: it does not exist, it is not a directory, or it cannot be read.
func checkDir(dir, abs string) error {
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return views.WithHint(fmt.Errorf("-chdir=%s: the directory %s does not exist", dir, abs),
			"pass the directory that holds your *.pix.hcl files")
	case err != nil:
		return fmt.Errorf("-chdir=%s: %w", dir, err)
	case !fi.IsDir():
		return views.WithHint(fmt.Errorf("-chdir=%s: %s is not a directory", dir, abs),
			"pass the directory that holds your *.pix.hcl files, not a file")
	}
	return nil
}

// version prints pixform's version, and the Go version and platform it was
// built for, as text or (-json) as one JSON object.
func (e *env) version(args []string) int {
	fs := newFlagSet("version", "version [-json]")
	jsonOut := fs.Bool("json", false, "print the version as one JSON object")
	e.noColorFlag(fs)
	if err := fs.Parse(args); err != nil {
		return e.flagExit(fs, err)
	}
	if *jsonOut {
		e.jsonOut = jsonDoc
	}
	if fs.NArg() > 0 {
		return e.fail(fmt.Errorf("version takes no arguments, got %q", fs.Args()))
	}
	if *jsonOut {
		b, _ := json.Marshal(struct {
			Version   string `json:"pixform_version"`
			GoVersion string `json:"go_version"`
			Platform  string `json:"platform"`
		}{Version, runtime.Version(), runtime.GOOS + "_" + runtime.GOARCH})
		fmt.Fprintf(e.stdio.Out, "%s\n", b)
		return ExitOK
	}
	fmt.Fprintf(e.stdio.Out, "pixform v%s (%s %s/%s)\n", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return ExitOK
}
