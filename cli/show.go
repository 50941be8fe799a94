package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/planfile"
	"github.com/pixform/pixform/state"
	"github.com/pixform/pixform/views"
)

func (e *env) show(args []string) int {
	fs := newFlagSet("show", "show [-json] [-format=text|json|markdown] [ADDR | PLANFILE]")
	jsonOut := fs.Bool("json", false, "print JSON")
	format := fs.String("format", "text", "output `FORMAT`: text, json or markdown (markdown for saved plans)")
	noColor := fs.Bool("no-color", false, "disable colour")
	if err := fs.Parse(args); err != nil {
		return e.flagExit(fs, err)
	}
	e.noColor = e.noColor || *noColor
	if *jsonOut {
		*format = "json"
	}
	if *format == "json" {
		e.jsonOut = jsonDoc
	}
	if fs.NArg() > 1 {
		return e.fail(errors.New("show takes at most one address or plan file"))
	}
	arg := fs.Arg(0)
	if arg != "" && !strings.HasPrefix(arg, "image.") {
		if p := e.abs(arg); fileExists(p) {
			return e.showPlan(p, arg, *format)
		}
		if _, err := addrs.Parse(arg); err != nil || *format == "markdown" {
			return e.fail(views.WithHint(fmt.Errorf("%s is neither a saved plan file nor an image address", arg),
				"make a plan file with `pixform plan -out="+arg+"`, or pass an address such as image.hero"))
		}
	}
	lock, _, err := e.readLock()
	if err != nil {
		return e.fail(err)
	}
	keys := sortedAddrs(lock)
	if arg != "" {
		a, err := addrs.Parse(arg)
		if err != nil {
			return e.fail(views.WithHint(err, "pass an image address such as image.hero, or the path of a saved plan"))
		}
		if keys, err = selectAddrs(keys, a); err != nil {
			return e.fail(err)
		}
	}
	switch *format {
	case "json":
		images := make(map[string]state.Entry, len(keys))
		for _, k := range keys {
			images[k.String()] = lock.Images[k]
		}
		b, err := json.Marshal(struct {
			FormatVersion string                 `json:"format_version"`
			Images        map[string]state.Entry `json:"images"`
		}{"1", images})
		if err != nil {
			return e.fail(err)
		}
		fmt.Fprintf(e.stdio.Out, "%s\n", b)
	case "text":
		if len(keys) == 0 {
			fmt.Fprintf(e.stdio.Out, "The lockfile records no images yet. Run `pixform apply` to render some.\n")
		}
		for i, k := range keys {
			if i > 0 {
				fmt.Fprintln(e.stdio.Out)
			}
			views.WriteEntry(e.stdio.Out, k.String(), lock.Images[k], e.color(false, e.stdio.OutTerminal))
		}
	default:
		return e.fail(fmt.Errorf("-format=%s: the lockfile is shown as text or json; markdown is for saved plans", *format))
	}
	return ExitOK
}

func (e *env) showPlan(path, name, format string) int {
	pf, err := planfile.Read(path, name)
	if err != nil {
		return e.fail(err)
	}
	switch format {
	case "json":
		err = views.WritePlanJSON(e.stdio.Out, pf.Plan)
	case "markdown":
		err = views.WritePlanMarkdown(e.stdio.Out, pf.Plan)
	default:
		err = views.WritePlan(e.stdio.Out, pf.Plan, e.color(false, e.stdio.OutTerminal))
	}
	if err != nil {
		return e.fail(err)
	}
	return ExitOK
}

func (e *env) abs(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(e.dir, p)
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// selectAddrs returns the keys that a selects, in their order: a itself,
// and every instance of a block address (image.icon selects
// image.icon["home"] and image.icon[0], not image.icons). None is an error
// that suggests the closest recorded address.
func selectAddrs(keys []addrs.Addr, a addrs.Addr) ([]addrs.Addr, error) {
	var sel []addrs.Addr
	for _, ka := range keys {
		if ka == a || (a.Kind == addrs.NoKey && ka.Name == a.Name) {
			sel = append(sel, ka)
		}
	}
	if len(sel) > 0 {
		return sel, nil
	}
	hints := []string{"`pixform state list` lists what it records"}
	if s := config.SuggestAddr(a, keys); s != "" {
		hints = append([]string{"did you mean " + s + "?"}, hints...)
	}
	return nil, views.WithHint(fmt.Errorf("%s is not in %s", a, state.LockFileName), hints...)
}

// sortedAddrs returns the lockfile's addresses in address order.
func sortedAddrs(lock *state.Lock) []addrs.Addr {
	return slices.SortedFunc(maps.Keys(lock.Images), addrs.Addr.Compare)
}

func (e *env) state(args []string) int {
	if len(args) == 0 {
		return e.fail(views.WithHint(errors.New("state needs a subcommand: pixform state list [ADDR…] | pixform state rm ADDR…"), "pixform state -h says more"))
	}
	switch args[0] {
	case "list":
		return e.stateList(args[1:])
	case "rm":
		return e.stateRm(args[1:])
	}
	err := fmt.Errorf("unknown state subcommand %q: use list or rm", args[0])
	if s := config.Suggest(args[0], []string{"list", "rm"}); s != "" {
		err = views.WithHint(err, "did you mean pixform state "+s+"?")
	}
	return e.fail(err)
}

// stateList lists the recorded addresses, or those that the arguments
// select, each once, in address order.
func (e *env) stateList(args []string) int {
	fs := newFlagSet("state list", "state list [options] [ADDR…]")
	e.noColorFlag(fs)
	if err := fs.Parse(args); err != nil {
		return e.flagExit(fs, err)
	}
	lock, _, err := e.readLock()
	if err != nil {
		return e.fail(err)
	}
	keys := sortedAddrs(lock)
	if fs.NArg() > 0 {
		selected := map[addrs.Addr]bool{}
		for _, arg := range fs.Args() {
			a, err := addrs.Parse(arg)
			if err != nil {
				return e.fail(views.WithHint(err, "pass image addresses such as image.hero or image.icon"))
			}
			sel, err := selectAddrs(keys, a)
			if err != nil {
				return e.fail(err)
			}
			for _, k := range sel {
				selected[k] = true
			}
		}
		keys = slices.DeleteFunc(keys, func(k addrs.Addr) bool { return !selected[k] })
	}
	for _, k := range keys {
		fmt.Fprintln(e.stdio.Out, k)
	}
	return ExitOK
}

func (e *env) stateRm(args []string) int {
	fs := newFlagSet("state rm", "state rm [options] ADDR…")
	lockTimeout := fs.Duration("lock-timeout", 0, "how long (a `DURATION` such as 30s) to wait for another pixform to finish")
	e.noColorFlag(fs)
	if err := fs.Parse(args); err != nil {
		return e.flagExit(fs, err)
	}
	if fs.NArg() == 0 {
		return e.fail(errors.New("state rm needs at least one address, e.g. pixform state rm image.hero"))
	}
	release, err := e.acquire("pixform state rm", *lockTimeout)
	if err != nil {
		return e.fail(err)
	}
	defer release()
	lock, _, err := e.readLock()
	if err != nil {
		return e.fail(err)
	}
	var removed []addrs.Addr
	left := sortedAddrs(lock)
	for _, s := range fs.Args() {
		a, err := addrs.Parse(s)
		if err != nil {
			return e.fail(err)
		}
		sel, err := selectAddrs(left, a)
		if err != nil {
			return e.fail(fmt.Errorf("%w; nothing was changed", err))
		}
		removed = append(removed, sel...)
		gone := make(map[addrs.Addr]bool, len(sel))
		for _, k := range sel {
			gone[k] = true
		}
		left = slices.DeleteFunc(left, func(k addrs.Addr) bool { return gone[k] })
	}
	if err := state.Remove(e.ctx, e.dir, lock, removed); err != nil {
		return e.fail(err)
	}
	for _, k := range removed {
		fmt.Fprintf(e.stdio.Out, "Removed %s (its file %s is left on disk)\n", k, lock.Images[k].Path)
	}
	return ExitOK
}

// acquire takes the directory's process lock.
func (e *env) acquire(holder string, timeout time.Duration) (func() error, error) {
	return state.AcquireDirLock(e.ctx, e.dir, timeout, holder)
}
