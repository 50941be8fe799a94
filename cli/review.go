package cli

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/executor"
	"github.com/pixform/pixform/gallery"
	"github.com/pixform/pixform/state"
	"github.com/pixform/pixform/views"
	"github.com/pixform/pixform/watch"
)

// pick implements `pixform pick ADDR N|SEED`: the take numbered N, or
// rendered with seed SEED, goes to the image's path from the content
// cache, and the lockfile records the pick.
func (e *env) pick(args []string) int {
	fs := newFlagSet("pick", "pick [options] ADDR N|SEED")
	lockTimeout := fs.Duration("lock-timeout", 0, "how long (a `DURATION` such as 30s) to wait for another pixform to finish")
	var storeURL string
	storeFlag(fs, &storeURL)
	e.noColorFlag(fs)
	if err := fs.Parse(args); err != nil {
		return e.flagExit(fs, err)
	}
	if fs.NArg() != 2 {
		return e.fail(views.WithHint(errors.New("pick takes an image address and a take: pixform pick ADDR N|SEED"),
			"pixform show ADDR lists the takes of an image with their numbers and seeds"))
	}
	a, err := addrs.Parse(fs.Arg(0))
	if err != nil {
		return e.fail(err)
	}
	n, err := strconv.ParseInt(fs.Arg(1), 10, 64)
	if err != nil || n < 1 {
		return e.fail(fmt.Errorf("pick %s %s: name the take by its number (1, 2, …) or its seed", a, fs.Arg(1)))
	}
	release, err := e.acquire("pixform pick", *lockTimeout)
	if err != nil {
		return e.fail(err)
	}
	defer release()
	defer e.closeStore()
	entry, ne, take, err := e.pickTake(a, n, storeURL)
	if err != nil {
		return e.fail(err)
	}
	t := ne.Takes[take-1]
	fmt.Fprintf(e.stdio.Out, "Picked take %d of %s (seed %d): %s now holds it; no request.\n", take, a, t.Seed, ne.Path)
	if entry.Approved != nil && ne.Approved == nil {
		fmt.Fprintf(e.stdio.Out, "The approval by %s was of the take before; approve the image again: pixform approve %s\n", views.Name(entry.Approved.By), a.ShellWord())
	}
	fmt.Fprintf(e.stdio.Out, "The lockfile keeps this pick while the image's inputs stay the same. To make it the image for good, set seed = %d and remove candidates in its image block (restored from the cache, no request).\n", t.Seed)
	return ExitOK
}

// pickTake carries out a pick (the caller holds the directory lock, or is
// the one writer): it returns the entry before and after, and the take's
// number. storeURL is -store's URL, or "" for PIXFORM_STORE or the store
// block.
func (e *env) pickTake(a addrs.Addr, n int64, storeURL string) (before, after state.Entry, take int, err error) {
	lock, _, err := e.readTrustedLock()
	if err != nil {
		return before, after, 0, err
	}
	entry, ok := lock.Images[a]
	switch {
	case !ok:
		return before, after, 0, views.WithHint(fmt.Errorf("pick: %s is not in %s", a, state.LockFileName), "pixform state list names the recorded images; apply renders new ones",
			"a pick that was interrupted leaves the image to apply, which restores it, picked, from the cache with no request")
	case len(entry.Takes) == 0:
		return before, after, 0, views.WithHint(fmt.Errorf("pick: %s has one render, no takes to pick from", a),
			"set candidates = N in its image block and apply, to render N takes")
	}
	take, ok = entry.FindTake(n)
	if !ok {
		return before, after, 0, views.WithHint(fmt.Errorf("pick: %s has no take %d: it has takes 1 to %d, with seeds %s", a, n, len(entry.Takes), seedList(entry)),
			"name a take by its number or its seed")
	}
	cache := state.OpenCache(e.dir)
	store := state.OpenStore(e.dir, lock, cache)
	store.KeepEarlierNotes()
	// What a pick killed midway left beside the file and the lockfile.
	store.RemoveStaleTemps([]string{entry.Path})
	ne, err := e.pickFromStore(executor.PickOptions{Dir: e.dir, Store: store, Cache: cache, Addr: a, Entry: entry, Take: take}, store, cache, storeURL)
	if cerr := store.Close(e.ctx); err == nil {
		err = cerr
	}
	if errors.Is(err, executor.ErrTakeNotCached) {
		err = views.WithHint(fmt.Errorf("pick: %w; nothing was changed", err),
			"the takes are kept in this checkout's .pixform/cache: pick on the machine that rendered them, or "+remakeTake(entry, take))
	}
	return entry, ne, take, err
}

// remakeTake is the advice for a take that no cache or store holds: pin
// its seed instead of candidates, which renders that take again in one
// request. (apply -replace renders every take again, and for an image
// with no seed of its own draws new seeds: the take never comes back.)
func remakeTake(e state.Entry, take int) string {
	return fmt.Sprintf("make take %d the image here: set seed = %d and remove candidates in its image block, and apply (1 request renders that take again)", take, e.Takes[take-1].Seed)
}

// seedList lists the seeds of e's takes, in order.
func seedList(e state.Entry) string {
	s := make([]string, len(e.Takes))
	for i, t := range e.Takes {
		s[i] = strconv.FormatInt(t.Seed, 10)
	}
	return strings.Join(s, ", ")
}

// approve implements `pixform approve [-by NAME] ADDR…`: the lockfile
// records who approved the bytes now at each image's path, and when.
func (e *env) approve(args []string) int {
	fs := newFlagSet("approve", "approve [options] ADDR…")
	by := fs.String("by", "", "who approves: `NAME` (default: git config user.name)")
	lockTimeout := fs.Duration("lock-timeout", 0, "how long (a `DURATION` such as 30s) to wait for another pixform to finish")
	e.noColorFlag(fs)
	if err := fs.Parse(args); err != nil {
		return e.flagExit(fs, err)
	}
	if fs.NArg() == 0 {
		return e.fail(errors.New("approve needs at least one address, e.g. pixform approve image.hero"))
	}
	name, from := strings.TrimSpace(*by), "-by"
	if name == "" {
		name, from = e.gitUserName(), "git config user.name"
	}
	if name == "" {
		return e.fail(views.WithHint(errors.New("approve: who approves? git config user.name is not set; nothing was changed"),
			"pass -by NAME, or set your name: git config user.name \"Your Name\""))
	}
	if err := state.CheckApprover(name); err != nil {
		return e.fail(views.WithHint(fmt.Errorf("approve: the name from %s %w; nothing was changed", from, err),
			"name who approves in text of one line: pass -by NAME, or set your name: git config user.name \"Your Name\""))
	}
	release, err := e.acquire("pixform approve", *lockTimeout)
	if err != nil {
		return e.fail(err)
	}
	defer release()
	var sel []addrs.Addr
	for _, arg := range fs.Args() {
		a, err := addrs.Parse(arg)
		if err != nil {
			return e.fail(err)
		}
		sel = append(sel, a)
	}
	done, err := e.approveAddrs(sel, name)
	for _, d := range done {
		fmt.Fprintf(e.stdio.Out, "Approved %s (%s, sha256 %s…) as %s.\n", d.Addr, d.Entry.Path, d.Entry.SHA256[:12], views.Name(name))
	}
	if err != nil {
		return e.fail(err)
	}
	return ExitOK
}

// approveAddrs approves the recorded images that sel selects (the caller
// holds the directory lock, or is the one writer) and returns each as
// recorded. An image awaiting a pick stops it before anything is recorded.
func (e *env) approveAddrs(sel []addrs.Addr, name string) ([]state.Prior, error) {
	lock, _, err := e.readTrustedLock()
	if err != nil {
		return nil, err
	}
	keys := sortedAddrs(lock)
	var chosen []addrs.Addr
	seen := map[addrs.Addr]bool{}
	for _, a := range sel {
		picked, err := selectAddrs(keys, a)
		if err != nil {
			return nil, fmt.Errorf("approve: %w; nothing was changed", err)
		}
		for _, k := range picked {
			if !seen[k] {
				seen[k] = true
				chosen = append(chosen, k)
			}
		}
	}
	for _, k := range chosen {
		if en := lock.Images[k]; en.AwaitsPick() {
			return nil, views.WithHint(fmt.Errorf("approve: %s has %d takes and none is picked yet; nothing was approved", k, len(en.Takes)),
				fmt.Sprintf("pick one first: pixform pick %s N (the first take is at %s now)", k.ShellWord(), en.Path))
		}
	}
	now := time.Now()
	store := state.OpenStore(e.dir, lock, nil)
	paths := make([]string, len(chosen))
	for i, k := range chosen {
		paths[i] = lock.Images[k].Path
	}
	store.RemoveStaleTemps(paths)
	as := make([]state.Annotation, len(chosen))
	for i, k := range chosen {
		as[i] = state.Annotation{Addr: k, Was: lock.Images[k], Entry: lock.Images[k].Approve(name, now)}
	}
	n, err := store.AnnotateAll(e.ctx, as)
	done := make([]state.Prior, n)
	for i, a := range as[:n] {
		done[i] = state.Prior{Addr: a.Addr, Entry: a.Entry}
	}
	if cerr := store.Close(e.ctx); err == nil {
		err = cerr
	}
	if fc := (*state.FileChangedError)(nil); errors.As(err, &fc) {
		err = views.WithHint(fmt.Errorf("approve: %w; it was not approved", err), "run pixform plan to see the change, and apply to render the image again")
	}
	return done, err
}

// galleryActions are the live gallery's pick and approve, carried out as
// the CLI's are, by the watch session as the one writer.
type galleryActions struct {
	e *env
	s *watch.Session
}

func (g galleryActions) Pick(ctx context.Context, addr string, take int, sha256 string) (state.Entry, error) {
	a, err := addrs.Parse(addr)
	if err != nil {
		return state.Entry{}, err
	}
	var ne state.Entry
	err = g.s.Exclusive(func() error {
		en, err := g.recorded(a)
		if err != nil {
			return err
		}
		if take < 1 || take > len(en.Takes) || en.Takes[take-1].SHA256 != sha256 {
			return fmt.Errorf("pick %s take %d: %w", a, take, gallery.ErrChanged)
		}
		var was state.Entry
		was, ne, _, err = g.e.pickTake(a, int64(take), "")
		if err != nil {
			return err
		}
		g.s.Say("picked take %d of %s in the gallery (seed %d): %s now holds it; no request.", take, a, ne.Takes[take-1].Seed, ne.Path)
		if was.Approved != nil && ne.Approved == nil {
			g.s.Say("the approval of %s by %s was of the take before; approve it again.", a, views.Name(was.Approved.By))
		}
		return nil
	})
	return ne, err
}

// recorded is a's entry in the lockfile; the caller holds it (Exclusive).
// An image the lockfile no longer records is one that changed.
func (g galleryActions) recorded(a addrs.Addr) (state.Entry, error) {
	lock, _, err := g.e.readTrustedLock()
	if err != nil {
		return state.Entry{}, err
	}
	en, ok := lock.Images[a]
	if !ok {
		return state.Entry{}, fmt.Errorf("%s is not in %s: %w", a, state.LockFileName, gallery.ErrChanged)
	}
	return en, nil
}

func (g galleryActions) Approve(ctx context.Context, addr string, sha256 string) (state.Entry, error) {
	a, err := addrs.Parse(addr)
	if err != nil {
		return state.Entry{}, err
	}
	name := g.e.gitUserName()
	if name == "" {
		return state.Entry{}, errors.New("approve: who approves? the gallery approves as git config user.name of the user running pixform watch, which is not set")
	}
	if err := state.CheckApprover(name); err != nil {
		return state.Entry{}, fmt.Errorf("approve: the gallery approves as git config user.name of the user running pixform watch, and the name from git config user.name %w; set a name of one line of text: git config user.name \"Your Name\"", err)
	}
	var done []state.Prior
	err = g.s.Exclusive(func() error {
		en, err := g.recorded(a)
		if err != nil {
			return err
		}
		if en.SHA256 != sha256 {
			return fmt.Errorf("approve %s: %w", a, gallery.ErrChanged)
		}
		done, err = g.e.approveAddrs([]addrs.Addr{a}, name)
		for _, d := range done {
			g.s.Say("approved %s in the gallery (%s, sha256 %s…) as %s.", d.Addr, d.Entry.Path, d.Entry.SHA256[:12], views.Name(name))
		}
		return err
	})
	if err != nil {
		return state.Entry{}, err
	}
	if len(done) != 1 {
		return state.Entry{}, fmt.Errorf("approve: %s was not approved", a)
	}
	return done[0].Entry, nil
}

// gitUserName is git config user.name in the working directory, or "".
func (e *env) gitUserName() string {
	cmd := exec.CommandContext(e.ctx, "git", "config", "user.name")
	cmd.Dir = e.dir
	cmd.Env = e.stdio.Environ
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
