package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	neturl "net/url"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/objstore"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/storesync"
	"github.com/pixform/pixform/views"
)

// storeEnv overrides the store block's URL; -store overrides both.
const storeEnv = "PIXFORM_STORE"

// storeEndpointsEnv, set to 1, lets a store block's URL choose the server
// its requests go to (serverParams).
const storeEndpointsEnv = "PIXFORM_STORE_ENDPOINTS_FROM_CONFIG"

// serverParams are the store URL query parameters, per scheme, that send
// the store's requests, signed with (or bearing) this machine's cloud
// credentials, to a server or over a protocol of the URL's choosing rather
// than the cloud's own. A configuration may come from a pull request, so
// a store block may set them only where the machine opts in.
var serverParams = map[string][]string{
	"s3":     {"endpoint", "disable_https", "profile"},
	"azblob": {"domain", "protocol", "cdn", "localemu"},
}

// checkBlockServer refuses a store block's URL that chooses the server its
// requests go to, or a file:// directory outside the working directory,
// unless the environment opts in; raw is the block's URL.
func (e *env) checkBlockServer(raw string) error {
	if e.getenv(storeEndpointsEnv) == "1" {
		return nil
	}
	u, err := neturl.Parse(raw)
	if err != nil {
		return nil // objstore.Open says what is wrong with it
	}
	if u.Scheme == "file" {
		// The directory objstore opens, however the URL names it
		// (file:///DIR, file://localhost/DIR): judged as it is used.
		p, ok := objstore.FileDir(raw)
		if !ok {
			return nil // objstore.Open says what is wrong with it
		}
		if dir, inside := e.storeDirInside(p); !inside {
			return views.WithHint(fmt.Errorf("it names the directory %s, outside the working directory, where pixform would read and write the store's objects (sha256/, inputs/, locks/) with this machine's permissions, and a configuration may come from a pull request", dir),
				"put the URL in PIXFORM_STORE or pass -store=URL, which override the store block and which a pull request cannot change",
				fmt.Sprintf("on a machine that trusts every configuration it runs (not CI that checks pull requests), set %s=1 to let the store block choose the directory", storeEndpointsEnv))
		}
		return nil
	}
	q := u.Query()
	for _, k := range serverParams[u.Scheme] {
		if !q.Has(k) {
			continue
		}
		what := "sends the store's requests, signed with this machine's credentials, to a server the configuration chooses"
		if k == "profile" {
			// A shared-config profile picks which of this machine's
			// credentials sign, and may name its own endpoint_url.
			what = "chooses which of this machine's credential profiles signs the store's requests, and a profile may name its own server"
		}
		return views.WithHint(fmt.Errorf("its query parameter %s=%s %s, and a configuration may come from a pull request", k, q.Get(k), what),
			"put the URL in PIXFORM_STORE or pass -store=URL, which override the store block and which a pull request cannot change",
			fmt.Sprintf("on a machine that trusts every configuration it runs (not CI that checks pull requests), set %s=1 to let the store block choose the server", storeEndpointsEnv))
	}
	return nil
}

// storeDirInside reports whether the directory p of a file:// store is
// inside the working directory once the symbolic links on its way,
// p's own included, are followed (a link in the checkout may lead out):
// resolved, as a directory. It returns the directory as resolved, for
// messages. A way with a ".." in it is outside (objstore refuses it
// anyway).
func (e *env) storeDirInside(p string) (string, bool) {
	if !filepath.IsAbs(p) || slices.Contains(strings.Split(filepath.ToSlash(p), "/"), "..") {
		return p, false
	}
	wd, err := filepath.EvalSymlinks(e.dir)
	if err != nil {
		return p, false
	}
	// resolved resolves the directories of a file: those of a name in p.
	dir := filepath.Dir(resolved(filepath.Join(filepath.Clean(p), "_")))
	rel, err := filepath.Rel(wd, dir)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return dir, false
	}
	return dir, true
}

// storeURL resolves the image store's URL: -store, then PIXFORM_STORE,
// then the store block (cfg may be nil). from says where it came from,
// for messages; "" and "" when no store is configured.
func (e *env) storeURL(flagURL string, cfg *config.Config) (url, from string) {
	switch {
	case flagURL != "":
		return flagURL, "-store"
	case e.getenv(storeEnv) != "":
		return e.getenv(storeEnv), storeEnv
	case cfg != nil && cfg.Store != nil:
		r := cfg.Store.URLRange
		return cfg.Store.URL, fmt.Sprintf("the store block at %s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
	}
	return "", ""
}

// linked is an open image store and this directory's link to it.
type linked struct {
	store *objstore.Store
	sync  *storesync.Sync
	lock  *objstore.Lock
}

// openStore opens the image store that flagURL, PIXFORM_STORE or cfg's
// store block names, or returns nil when none does. parallel bounds its
// requests in flight (0: the default).
func (e *env) openStore(flagURL string, cfg *config.Config, parallel int) (*linked, error) {
	url, from := e.storeURL(flagURL, cfg)
	if url == "" {
		return nil, nil
	}
	if flagURL == "" && e.getenv(storeEnv) == "" {
		if err := e.checkBlockServer(url); err != nil {
			return nil, &views.StoreSourceError{From: from, Err: err}
		}
	}
	st, err := objstore.Open(e.ctx, url)
	if err != nil {
		return nil, &views.StoreSourceError{From: from, Err: err}
	}
	if parallel < 1 && st.Local() {
		parallel = storesync.LocalParallelism
	}
	sy, err := storesync.New(e.dir, adapt{Store: st, flush: e.flushStore}, parallel)
	if err != nil {
		st.Close()
		return nil, err
	}
	sy.PerObject = perObject
	return &linked{store: st, sync: sy}, nil
}

// perObject reports whether a store failure concerns one object only.
func perObject(err error) bool {
	var se *objstore.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Kind {
	case objstore.NotFound, objstore.Corrupt, objstore.TooLarge, objstore.BadKey:
		return true
	}
	return false
}

// close releases the store lock, if this process holds it, and closes
// the store. The lock is released under a context of its own: an
// interrupted run still releases it. A lock that is no longer ours is
// left alone, and said.
func (l *linked) close(e *env) {
	if l == nil {
		return
	}
	if l.lock != nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(e.ctx), 30*time.Second)
		if err := l.lock.Unlock(ctx); err != nil {
			views.WriteWarning(e.stdio.Err, fmt.Sprintf("could not release the store lock: %v", err), e.color(false, e.stdio.ErrTerminal))
		}
		cancel()
		l.lock = nil
	}
	l.sync.Close()
	l.store.Close()
}

// settle waits for the flush that makes durable the objects an apply's
// plan found in the store (run in the background while the apply goes
// on) and returns its failure: an apply with nothing else to do reports
// success only once they are durable, as one that uploads does when its
// store closes.
func (l *linked) settle(e *env) error {
	if l == nil || l.sync == nil {
		return nil
	}
	return l.sync.Settle(context.WithoutCancel(e.ctx))
}

// lockKey names this working directory's lock object in the store:
// "dir-" and the first 16 hex digits of the SHA-256 of the directory's
// path relative to the top of its git repository ("." at the top), so
// that every clone of a repository, wherever it is checked out, takes the
// same lock for the same directory. Outside git the path is ".": one
// lock for the whole store.
func lockKey(dir string) string {
	rel := "."
	for d := dir; ; {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			if r, err := filepath.Rel(d, dir); err == nil {
				rel = filepath.ToSlash(r)
			}
			break
		}
		up := filepath.Dir(d)
		if up == d {
			break
		}
		d = up
	}
	h := sha256.Sum256([]byte(rel))
	return "dir-" + hex.EncodeToString(h[:8])
}

// lockStore takes the store lock of this directory for operation
// ("apply", "watch", "push"), waiting up to timeout.
func (e *env) lockStore(l *linked, operation string, timeout time.Duration) error {
	if l == nil {
		return nil
	}
	holder := "unknown"
	if u, err := user.Current(); err == nil {
		holder = u.Username
	}
	host, _ := os.Hostname()
	// A store that stops answering fails the wait rather than hangs it.
	ctx, cancel := context.WithTimeout(e.ctx, timeout+storesync.DefaultTimeout)
	defer cancel()
	lk, err := l.store.Lock(ctx, lockKey(e.dir), objstore.LockInfo{
		Holder: holder, Host: host, PID: os.Getpid(), Operation: operation,
	}, timeout)
	if err != nil {
		return err
	}
	l.lock = lk
	return nil
}

// adapt makes an *objstore.Store the Remote of storesync.
type adapt struct {
	*objstore.Store
	// flush, when not nil, is the store's Flush (env.flushStore).
	flush func(ctx context.Context) error
}

func (a adapt) Flush(ctx context.Context) error {
	if a.flush != nil {
		return a.flush(ctx)
	}
	return a.Store.Flush(ctx)
}

func (a adapt) PutInputs(ctx context.Context, digest string, rec storesync.Record) error {
	return a.Store.PutInputs(ctx, digest, objstore.Record(rec))
}

func (a adapt) PutWithInputs(ctx context.Context, sum string, r io.Reader, digests []string, rec storesync.Record) error {
	return a.Store.PutWithInputs(ctx, sum, r, digests, objstore.Record(rec))
}

func (a adapt) GetInputs(ctx context.Context, digest string) (storesync.Record, bool, error) {
	rec, ok, err := a.Store.GetInputs(ctx, digest)
	return storesync.Record(rec), ok, err
}

// planWithStore is planner.Diff with the image store's facts: which
// objects the lockfile names are in the store (asked before planning),
// and which renders the plan would request the store has (asked after a
// first plan, which then is made again with the answers and the same
// seeds, until the answers change nothing). Without a store it is Diff.
//
// When the store fails, a lenient plan goes on with what the note of
// uploads knows, and without restores from the store, after a warning;
// otherwise the failure is returned.
func (e *env) planWithStore(in planner.Input, l *linked, lenient bool) (*planner.Plan, hcl.Diagnostics, error) {
	if l == nil {
		p, diags := planner.Diff(in)
		return p, diags, nil
	}
	in.InStore = l.sync.InStore
	warn := func(err error) bool {
		if !lenient || e.ctx.Err() != nil {
			return false
		}
		views.WriteWarning(e.stdio.Err, fmt.Sprintf("%v; the plan below is made without all of the store's facts: images it may hold count as missing from it", err), e.color(false, e.stdio.ErrTerminal))
		return true
	}
	sums := make([]string, 0, len(in.Lock.Images))
	for _, en := range in.Lock.Images {
		sums = append(sums, en.SHA256)
		for _, t := range en.Takes {
			sums = append(sums, t.SHA256)
		}
	}
	if err := l.sync.Check(e.ctx, sums); err != nil {
		if !warn(err) {
			return nil, nil, err
		}
		in.StoreUnread = true
		p, diags := planner.Diff(in)
		return p, diags, nil
	}
	// Each plan asks for the records of the renders it would request;
	// when the store holds any, the plan is made again with them and the
	// same seeds (the planner asks for seeds in the same order). A
	// restored source makes the hash of what is made from it known, and
	// the next plan asks for that render: one round a link of a chain.
	var asked []string
	fetched := map[string]bool{}
	in.Stored = func(digest, provider string) (string, bool) {
		if fetched[digest] {
			return l.sync.Stored(digest, provider)
		}
		asked = append(asked, digest)
		return "", false
	}
	var seeds []int64
	next := 0
	newSeed := in.NewSeed
	in.NewSeed = func() int64 {
		if next == len(seeds) {
			seeds = append(seeds, newSeed())
		}
		next++
		return seeds[next-1]
	}
	p, diags := planner.Diff(in)
	for !diags.HasErrors() && len(asked) > 0 {
		if err := l.sync.FetchRecords(e.ctx, asked); err != nil {
			if !warn(err) {
				return nil, nil, err
			}
			return p, diags, nil
		}
		found := false
		for _, d := range asked {
			fetched[d] = true
			if _, ok := l.sync.Stored(d, in.Provider); ok {
				found = true
			}
		}
		if !found {
			break
		}
		asked, next = asked[:0], 0
		p, diags = planner.Diff(in)
	}
	return p, diags, nil
}

// linkStore opens the image store (once per process) and, when op is not
// "", takes its lock for op, waiting up to wait. nil means no store.
func (e *env) linkStore(flagURL string, cfg *config.Config, op string, wait time.Duration) (*linked, error) {
	if e.link == nil {
		l, err := e.openStore(flagURL, cfg, 0)
		if err != nil || l == nil {
			return nil, err
		}
		e.link = l
	}
	if op != "" && e.link.lock == nil {
		if err := e.lockStore(e.link, op, wait); err != nil {
			return nil, err
		}
	}
	return e.link, nil
}

// closeStore releases the store lock if this process holds it, and
// closes the store.
func (e *env) closeStore() {
	e.link.close(e)
	e.link = nil
}

// syncOf is the link's Sync, or nil.
func (l *linked) syncOf() *storesync.Sync {
	if l == nil {
		return nil
	}
	return l.sync
}
