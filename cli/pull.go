package cli

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/state"
	"github.com/pixform/pixform/storesync"
	"github.com/pixform/pixform/views"
)

// storeCommand is what pull, push and force-unlock share: the store's
// URL, and the variables its store block may need.
type storeCommand struct {
	store    string
	vars     listFlag
	varFiles listFlag
}

// linkFor reads the configuration (for its store block) and opens the store;
// with op, it takes the store lock for op, waiting up to wait.
func (e *env) linkFor(sc *storeCommand, op string, wait time.Duration) (*linked, *config.Config, error) {
	var cfg *config.Config
	if sc.store == "" && e.getenv(storeEnv) == "" {
		c, ok := e.loadConfig(sc.vars, sc.varFiles)
		if !ok {
			return nil, nil, errConfig
		}
		cfg = c
	}
	l, err := e.linkStore(sc.store, cfg, op, wait)
	if err != nil {
		return nil, nil, err
	}
	if l == nil {
		return nil, nil, views.WithHint(errors.New("no image store is configured"),
			`declare one in a *.pix.hcl file: store { url = "s3://BUCKET/PREFIX?region=REGION" }, or pass -store=URL, or set PIXFORM_STORE`)
	}
	return l, cfg, nil
}

// progressLine returns a pull's or push's progress printer: one line a
// file, to stderr.
func (e *env) progressLine(verb string) func(storesync.Step) {
	var mu sync.Mutex
	return func(st storesync.Step) {
		mu.Lock()
		defer mu.Unlock()
		views.StoreStep(e.stdio.Err, verb, st)
	}
}

func (e *env) pull(args []string) int {
	return e.transfer(args, transferSpec{
		name: "pull",
		help: `pull [options]

Download from the image store every image the lockfile records that is
missing here or differs, verified by its sha256, each into a temporary
file and then renamed into place.`,
		each:     "downloads",
		lockHelp: "how long (a `DURATION` such as 30s) to wait for another pixform in this directory",
		done:     "pulled",
		run: func(sy *storesync.Sync, ctx context.Context, lock *state.Lock, facts map[string]storesync.FileFact, progress func(storesync.Step)) (storesync.Report, error) {
			// The one writer of the outputs makes, places and gives up
			// each download, as an apply's renders; a pull records
			// nothing, so it has no lockfile writer, and it commits,
			// moves, deletes and ends nothing, so the Store needs no
			// index of the lockfile's paths (a few MB at 10,000).
			local := state.NewStore(e.dir, nil, noRecords{lock}, nil)
			// A killed pull's temporary files (named ones, where the file
			// system makes no unnamed files) go first, as an apply's do.
			paths := make([]string, 0, len(lock.Images))
			for _, en := range lock.Images {
				paths = append(paths, en.Path)
			}
			local.RemoveStaleTemps(paths)
			rep, err := sy.Pull(ctx, local, lock, facts, progress)
			if cerr := local.Close(ctx); err == nil && cerr != nil {
				err = cerr
			}
			return rep, err
		},
	})
}

func (e *env) push(args []string) int {
	return e.transfer(args, transferSpec{
		name: "push",
		help: `push [options]

Upload to the image store every image the lockfile records that the store
lacks (after a store was down during an apply, or to seed a new store).
It takes the store's lock for this directory.`,
		each:      "uploads",
		lockHelp:  "how long (a `DURATION` such as 30s) to wait for another pixform in this directory, here or on another machine",
		done:      "pushed",
		storeLock: true,
		run:       (*storesync.Sync).Push,
	})
}

// transferSpec is what tells pull and push apart.
type transferSpec struct {
	name, help string
	each       string // what one of -parallelism's N is: "downloads"
	lockHelp   string
	done       string // the progress verb: "pulled"
	// storeLock takes the store's lock for the directory, besides the
	// local one.
	storeLock bool
	run       func(*storesync.Sync, context.Context, *state.Lock, map[string]storesync.FileFact, func(storesync.Step)) (storesync.Report, error)
}

// transfer runs pull or push: the lockfile's files against the store.
func (e *env) transfer(args []string, t transferSpec) int {
	var sc storeCommand
	fs := newFlagSet(t.name, t.help)
	storeFlag(fs, &sc.store)
	fs.Var(&sc.vars, "var", "set a variable the store block uses: `NAME=VALUE` (repeatable)")
	fs.Var(&sc.varFiles, "var-file", "load variable values from `FILE` (repeatable)")
	parallelism := fs.Int("parallelism", 0, fmt.Sprintf("at most `N` %s at once (default %d)", t.each, storesync.DefaultParallelism))
	lockTimeout := fs.Duration("lock-timeout", 0, t.lockHelp)
	e.noColorFlag(fs)
	if err := fs.Parse(args); err != nil {
		return e.flagExit(fs, err)
	}
	if fs.NArg() > 0 {
		return e.fail(fmt.Errorf("%s takes no arguments, got %q", t.name, fs.Args()))
	}
	release, err := e.acquire("pixform "+t.name, *lockTimeout)
	if err != nil {
		return e.fail(err)
	}
	defer release()
	defer e.closeStore()
	op, wait := "", time.Duration(0)
	if t.storeLock {
		op, wait = t.name, *lockTimeout
	}
	l, _, err := e.linkFor(&sc, op, wait)
	if err != nil {
		return e.fail(err)
	}
	lock, _, err := e.readTrustedLock()
	if err != nil {
		return e.fail(err)
	}
	facts, err := state.Refresh(e.dir, lock, false)
	if err != nil {
		return e.fail(err)
	}
	sy := l.sync
	if *parallelism > 0 {
		sy.SetParallelism(*parallelism)
	}
	rep, err := t.run(sy, e.ctx, lock, fileFacts(facts), e.progressLine(t.done))
	views.WriteStoreReport(e.stdio.Out, t.name, sy.Remote().String(), rep, err, e.color(false, e.stdio.OutTerminal))
	if err != nil {
		return e.fail(err)
	}
	return ExitOK
}

func (e *env) forceUnlock(args []string) int {
	var sc storeCommand
	fs := newFlagSet("force-unlock", `force-unlock [options] ID

Remove this directory's lock in the image store, held under ID by a pixform
that is no longer running (killed, crashed), after saying whose it was.
The error of the command that found the lock held names the ID. A lock
held under another ID is left alone.`)
	storeFlag(fs, &sc.store)
	fs.Var(&sc.vars, "var", "set a variable the store block uses: `NAME=VALUE` (repeatable)")
	fs.Var(&sc.varFiles, "var-file", "load variable values from `FILE` (repeatable)")
	e.noColorFlag(fs)
	if err := fs.Parse(args); err != nil {
		return e.flagExit(fs, err)
	}
	if fs.NArg() != 1 {
		return e.fail(views.WithHint(errors.New("force-unlock takes one argument, the lock's ID"),
			"the error of the command that found the lock held names it: pixform force-unlock ID"))
	}
	defer e.closeStore()
	l, _, err := e.linkFor(&sc, "", 0)
	if err != nil {
		return e.fail(err)
	}
	ctx, cancel := context.WithTimeout(e.ctx, storesync.DefaultTimeout)
	defer cancel()
	info, err := l.store.ForceUnlock(ctx, lockKey(e.dir), fs.Arg(0))
	if err != nil {
		return e.fail(err)
	}
	views.WriteForceUnlocked(e.stdio.Out, info, l.store.String(), e.color(false, e.stdio.OutTerminal))
	return ExitOK
}

// fileFacts is the disk's facts of the lockfile's paths, as pull and
// push take them.
func fileFacts(facts map[string]state.FileFact) map[string]storesync.FileFact {
	out := make(map[string]storesync.FileFact, len(facts))
	for p, f := range facts {
		out[p] = storesync.FileFact{Exists: f.Exists, SHA256: f.SHA256}
	}
	return out
}

// noRecords is the Journal of a Store that places files the lockfile
// already records (a pull's downloads) and records nothing: it refuses
// any record, leaving the lockfile as it is.
type noRecords struct{ lock *state.Lock }

func (n noRecords) Record(context.Context, []addrs.Addr, map[addrs.Addr]state.Entry) error {
	return fmt.Errorf("%s is not written by a pull: nothing was recorded", state.LockFileName)
}

func (n noRecords) Snapshot() *state.Lock { return n.lock }
func (n noRecords) Close() error          { return nil }
