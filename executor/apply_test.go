package executor

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/media"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

// env is one Apply under test.
type env struct {
	dir   string
	prior map[string]state.Entry
	cache *fakeCache
	prov  *fakeProvider
	rec   *fakeRecorder
	lim   *testLimiter
	clock *fakeClock
	hooks *recHooks
}

func newEnv(t *testing.T) *env {
	return &env{
		dir:   t.TempDir(),
		prior: map[string]state.Entry{},
		cache: &fakeCache{},
		lim:   newTestLimiter(4),
		clock: newFakeClock(),
		hooks: &recHooks{},
	}
}

// had writes a prior image and records it in the prior lockfile.
func (e *env) had(t *testing.T, name, rel string, seed int64) *state.Entry {
	en := writeImage(t, e.dir, rel, inputs(name, seed))
	e.prior[addr(name).String()] = en
	return &en
}

func (e *env) apply(t *testing.T, ctx context.Context, update bool, changes []planner.Change, mod func(*Options)) (*Result, error) {
	t.Helper()
	if e.prov == nil {
		e.prov = &fakeProvider{render: renderPNG(t)}
	}
	// Every Store records an address move in one lockfile write: update
	// no longer selects a Recorder without that ability.
	_ = update
	e.rec = newFakeRecorder(t, e.dir, e.prior)
	opts := Options{
		Dir:         e.dir,
		Provider:    e.prov,
		Store:       e.rec.store(e.cache),
		Cache:       e.cache,
		Hooks:       e.hooks,
		Limiter:     e.lim,
		Parallelism: 4,
		MaxRetries:  3,
		Clock:       e.clock,
		Rand:        func() float64 { return 0.5 },
	}
	if mod != nil {
		mod(&opts)
	}
	res, err := Apply(ctx, &planner.Plan{Provider: providers.Imagine, Changes: changes}, opts)
	noTempFiles(t, e.dir)
	if e.lim.held() != 0 {
		t.Errorf("limiter slots still held: %d", e.lim.held())
	}
	if got := len(e.lim.outcomes); got < res.Requests {
		t.Errorf("limiter saw %d releases, want one per request (%d)", got, res.Requests)
	}
	return res, err
}

func create(name, rel string, seed int64) planner.Change {
	return planner.Change{Addr: addr(name), Action: planner.Create, Inputs: inputs(name, seed), Path: rel, Requests: 1, Credits: 15, CreditsKnown: true}
}

func withPrior(c planner.Change, action planner.Action, prior *state.Entry, priorAddr string) planner.Change {
	c.Action, c.Prior, c.PriorAddr = action, prior, addrs.MustParse(priorAddr)
	if action == planner.Move || action == planner.Delete {
		c.Requests, c.Credits = 0, 0
	}
	return c
}

// counts is the part of a Result the table tests compare.
type counts struct {
	Generated, Restored, Moved, Deleted, Kept, Failed, Skipped int
	Requests, Retries, Throttled, Credits                      int
}

func countsOf(r *Result) counts {
	return counts{r.Generated, r.Restored, r.Moved, r.Deleted, r.Kept, r.Failed, r.Skipped, r.Requests, r.Retries, r.Throttled, r.Credits}
}

// wantEntry checks that the lockfile records name at rel with that file's
// hash, and returns the entry.
func wantEntry(t *testing.T, e *env, lock map[string]state.Entry, name, rel string) state.Entry {
	t.Helper()
	en, ok := lock[addr(name).String()]
	if !ok {
		t.Fatalf("no entry for %s; lockfile: %v", addr(name), lock)
	}
	if en.Path != rel {
		t.Errorf("%s path = %s, want %s", name, en.Path, rel)
	}
	if got := fileSum(t, e.dir, rel); got != en.SHA256 {
		t.Errorf("%s: file %s hash %.12s, entry %.12s", name, rel, got, en.SHA256)
	}
	return en
}

func TestApplyChanges(t *testing.T) {
	tests := map[string]struct {
		update bool
		// build makes the prior state on disk and the plan.
		build  func(t *testing.T, e *env) []planner.Change
		render func(t testing.TB) func(context.Context, Request, io.Writer) error
		want   counts
		check  func(t *testing.T, e *env, lock map[string]state.Entry)
	}{
		"create": {
			build: func(t *testing.T, e *env) []planner.Change {
				return []planner.Change{create("hero", "assets/hero.png", 7)}
			},
			want: counts{Generated: 1, Requests: 1, Credits: 15},
			check: func(t *testing.T, e *env, lock map[string]state.Entry) {
				en := wantEntry(t, e, lock, "hero", "assets/hero.png")
				want := state.Entry{Inputs: inputs("hero", 7), Provider: "imagine", Path: "assets/hero.png", SHA256: sumOf(pngOf(t, 8, 6, 7)), Bytes: int64(len(pngOf(t, 8, 6, 7))), MediaType: media.PNG, Width: 8, Height: 6}
				if !en.Equal(want) {
					t.Errorf("entry = %+v, want %+v", en, want)
				}
				if e.cache.puts != 1 || !e.cache.Has(inputs("hero", 7).Digest(), "imagine") {
					t.Errorf("content cache not filled: %d puts", e.cache.puts)
				}
			},
		},
		"replace same path": {
			build: func(t *testing.T, e *env) []planner.Change {
				p := e.had(t, "hero", "images/hero.png", 1)
				return []planner.Change{withPrior(create("hero", "images/hero.png", 2), planner.Replace, p, "image.hero")}
			},
			want: counts{Generated: 1, Requests: 1, Credits: 15},
			check: func(t *testing.T, e *env, lock map[string]state.Entry) {
				en := wantEntry(t, e, lock, "hero", "images/hero.png")
				if en.Inputs.Seed != 2 || en.SHA256 != sumOf(pngOf(t, 8, 6, 2)) {
					t.Errorf("entry not replaced: %+v", en)
				}
				if want := []string{"delete image.hero", "set image.hero"}; !slices.Equal(e.rec.ops, want) {
					t.Errorf("recorder ops = %v, want %v", e.rec.ops, want)
				}
			},
		},
		"replace new path": {
			build: func(t *testing.T, e *env) []planner.Change {
				p := e.had(t, "hero", "old/hero.png", 1)
				return []planner.Change{withPrior(create("hero", "new/hero.png", 2), planner.Replace, p, "image.hero")}
			},
			want: counts{Generated: 1, Requests: 1, Credits: 15},
			check: func(t *testing.T, e *env, lock map[string]state.Entry) {
				wantEntry(t, e, lock, "hero", "new/hero.png")
				if got := listFiles(t, e.dir); !slices.Equal(got, []string{"new/hero.png"}) {
					t.Errorf("files = %v, want only the new one", got)
				}
			},
		},
		"move address in place": {
			build: func(t *testing.T, e *env) []planner.Change {
				p := e.had(t, "old", "images/a.png", 1)
				c := withPrior(create("new", "images/a.png", 1), planner.Move, p, "image.old")
				c.Inputs = p.Inputs
				return []planner.Change{c}
			},
			want: counts{Moved: 1},
			check: func(t *testing.T, e *env, lock map[string]state.Entry) {
				wantEntry(t, e, lock, "new", "images/a.png")
				if _, ok := lock["image.old"]; ok || len(lock) != 1 {
					t.Errorf("lockfile = %v, want only image.new", lock)
				}
			},
		},
		"move address in place, one update": {
			update: true,
			build: func(t *testing.T, e *env) []planner.Change {
				p := e.had(t, "old", "images/a.png", 1)
				return []planner.Change{withPrior(create("new", "images/a.png", 1), planner.Move, p, "image.old")}
			},
			want: counts{Moved: 1},
			check: func(t *testing.T, e *env, lock map[string]state.Entry) {
				wantEntry(t, e, lock, "new", "images/a.png")
				if len(lock) != 1 {
					t.Errorf("lockfile = %v, want only image.new", lock)
				}
			},
		},
		"move path": {
			build: func(t *testing.T, e *env) []planner.Change {
				p := e.had(t, "hero", "a.png", 1)
				return []planner.Change{withPrior(create("hero", "sub/b.png", 1), planner.Move, p, "image.hero")}
			},
			want: counts{Moved: 1},
			check: func(t *testing.T, e *env, lock map[string]state.Entry) {
				en := wantEntry(t, e, lock, "hero", "sub/b.png")
				if en.SHA256 != e.prior["image.hero"].SHA256 {
					t.Errorf("moved file changed")
				}
				if got := listFiles(t, e.dir); !slices.Equal(got, []string{"sub/b.png"}) {
					t.Errorf("files = %v", got)
				}
			},
		},
		"move address and path": {
			update: true,
			build: func(t *testing.T, e *env) []planner.Change {
				p := e.had(t, "old", "a.png", 1)
				return []planner.Change{withPrior(create("new", "b.png", 1), planner.Move, p, "image.old")}
			},
			want: counts{Moved: 1},
			check: func(t *testing.T, e *env, lock map[string]state.Entry) {
				wantEntry(t, e, lock, "new", "b.png")
				if len(lock) != 1 {
					t.Errorf("lockfile = %v", lock)
				}
			},
		},
		"move swap cycle": {
			build: func(t *testing.T, e *env) []planner.Change {
				x := e.had(t, "x", "a.png", 1)
				y := e.had(t, "y", "b.png", 2)
				return []planner.Change{
					withPrior(create("x", "b.png", 1), planner.Move, x, "image.x"),
					withPrior(create("y", "a.png", 2), planner.Move, y, "image.y"),
				}
			},
			want: counts{Moved: 2},
			check: func(t *testing.T, e *env, lock map[string]state.Entry) {
				if wantEntry(t, e, lock, "x", "b.png").SHA256 != e.prior["image.x"].SHA256 ||
					wantEntry(t, e, lock, "y", "a.png").SHA256 != e.prior["image.y"].SHA256 {
					t.Errorf("swap lost an image")
				}
				if left, _ := filepath.Glob(filepath.Join(e.dir, ".pixform", "staging", "*")); len(left) > 0 {
					t.Errorf("staging files left: %v", left)
				}
			},
		},
		"move chain and three-cycle": {
			build: func(t *testing.T, e *env) []planner.Change {
				p := e.had(t, "p", "c1.png", 1)
				q := e.had(t, "q", "c2.png", 2)
				a := e.had(t, "a", "r1.png", 3)
				b := e.had(t, "b", "r2.png", 4)
				c := e.had(t, "c", "r3.png", 5)
				return []planner.Change{
					withPrior(create("a", "r2.png", 3), planner.Move, a, "image.a"),
					withPrior(create("b", "r3.png", 4), planner.Move, b, "image.b"),
					withPrior(create("c", "r1.png", 5), planner.Move, c, "image.c"),
					withPrior(create("p", "c2.png", 1), planner.Move, p, "image.p"),
					withPrior(create("q", "c3.png", 2), planner.Move, q, "image.q"),
				}
			},
			want: counts{Moved: 5},
			check: func(t *testing.T, e *env, lock map[string]state.Entry) {
				for name, rel := range map[string]string{"a": "r2.png", "b": "r3.png", "c": "r1.png", "p": "c2.png", "q": "c3.png"} {
					if wantEntry(t, e, lock, name, rel).SHA256 != e.prior[addr(name).String()].SHA256 {
						t.Errorf("%s: image changed in the move", name)
					}
				}
				if got := listFiles(t, e.dir); len(got) != 5 {
					t.Errorf("files = %v, want 5", got)
				}
			},
		},
		"delete": {
			build: func(t *testing.T, e *env) []planner.Change {
				p := e.had(t, "gone", "g.png", 1)
				e.had(t, "kept", "k.png", 2)
				return []planner.Change{{Addr: addr("gone"), Action: planner.Delete, Path: "g.png", Prior: p, PriorAddr: addrs.MustParse("image.gone")}}
			},
			want: counts{Deleted: 1},
			check: func(t *testing.T, e *env, lock map[string]state.Entry) {
				if _, ok := lock["image.gone"]; ok {
					t.Errorf("entry not deleted")
				}
				wantEntry(t, e, lock, "kept", "k.png")
				if got := listFiles(t, e.dir); !slices.Equal(got, []string{"k.png"}) {
					t.Errorf("files = %v", got)
				}
			},
		},
		"delete keeps a file edited by hand": {
			build: func(t *testing.T, e *env) []planner.Change {
				p := e.had(t, "gone", "g.png", 1)
				delete(e.prior, "image.gone") // the edit breaks the invariant only for this test's setup
				os.WriteFile(filepath.Join(e.dir, "g.png"), []byte("my edits"), 0o644)
				return []planner.Change{{Addr: addr("gone"), Action: planner.Delete, Path: "g.png", Prior: p, PriorAddr: addrs.MustParse("image.gone")}}
			},
			want: counts{Kept: 1},
			check: func(t *testing.T, e *env, lock map[string]state.Entry) {
				if b, _ := os.ReadFile(filepath.Join(e.dir, "g.png")); string(b) != "my edits" {
					t.Errorf("edited file lost: %q", b)
				}
				// Completed says it was kept; a warning would say it twice.
				if e.hooks.count("completed image.gone kept") != 1 || e.hooks.count("warn image.gone") != 0 {
					t.Errorf("the kept file is not reported once as kept: %v", e.hooks.events)
				}
			},
		},
		"restore from cache": {
			build: func(t *testing.T, e *env) []planner.Change {
				e.cache.files = map[string][]byte{inputs("hero", 3).Digest() + "/imagine": pngOf(t, 5, 5, 99)}
				c := create("hero", "hero.png", 3)
				c.FromCache, c.Requests, c.Credits = true, 0, 0
				return []planner.Change{c}
			},
			want: counts{Restored: 1},
			check: func(t *testing.T, e *env, lock map[string]state.Entry) {
				en := wantEntry(t, e, lock, "hero", "hero.png")
				if en.SHA256 != sumOf(pngOf(t, 5, 5, 99)) || en.Width != 5 {
					t.Errorf("not the cached image: %+v", en)
				}
			},
		},
		"restore falls back to a request when the cache lacks it": {
			build: func(t *testing.T, e *env) []planner.Change {
				c := create("hero", "hero.png", 3)
				c.FromCache, c.Requests, c.Credits = true, 0, 0
				return []planner.Change{c}
			},
			want: counts{Generated: 1, Requests: 1, Credits: 15},
			check: func(t *testing.T, e *env, lock map[string]state.Entry) {
				wantEntry(t, e, lock, "hero", "hero.png")
			},
		},
		"restore falls back to a request when the cached copy is corrupt": {
			build: func(t *testing.T, e *env) []planner.Change {
				b := pngOf(t, 5, 5, 99)
				e.cache.files = map[string][]byte{inputs("hero", 3).Digest() + "/imagine": b[:len(b)/2]}
				c := create("hero", "hero.png", 3)
				c.FromCache, c.Requests, c.Credits = true, 0, 0
				return []planner.Change{c}
			},
			want: counts{Generated: 1, Requests: 1, Credits: 15},
			check: func(t *testing.T, e *env, lock map[string]state.Entry) {
				if en := wantEntry(t, e, lock, "hero", "hero.png"); en.Width != 8 {
					t.Errorf("not the rendered image: %+v", en)
				}
			},
		},
		"a missing recorded file is put back from the cache as recorded, with no lockfile write": {
			build: func(t *testing.T, e *env) []planner.Change {
				// The recorded bytes are checked by their SHA-256 and as
				// a whole image of the recorded size, not decoded.
				b := pngOf(t, 4, 3, 7)
				in := inputs("hero", 3)
				p := state.Entry{Inputs: in, Provider: providers.Imagine, Path: "hero.png", SHA256: sumOf(b), Bytes: int64(len(b)), MediaType: media.PNG, Width: 4, Height: 3}
				e.prior["image.hero"] = p
				e.cache.files = map[string][]byte{in.Digest() + "/imagine": b}
				c := withPrior(create("hero", "hero.png", 3), planner.Replace, &p, "image.hero")
				c.FromCache, c.Requests, c.Credits = true, 0, 0
				return []planner.Change{c}
			},
			want: counts{Restored: 1},
			check: func(t *testing.T, e *env, lock map[string]state.Entry) {
				b, err := os.ReadFile(filepath.Join(e.dir, "hero.png"))
				if err != nil || !bytes.Equal(b, pngOf(t, 4, 3, 7)) {
					t.Errorf("hero.png holds %q (%v), want the recorded bytes", b, err)
				}
				if en := wantEntry(t, e, lock, "hero", "hero.png"); en.Width != 4 {
					t.Errorf("entry changed: %+v", en)
				}
				if len(e.rec.ops) != 0 {
					t.Errorf("lockfile writes %v, want none", e.rec.ops)
				}
				if got := listFiles(t, e.dir); !slices.Equal(got, []string{"hero.png"}) {
					t.Errorf("files = %v", got)
				}
			},
		},
		"a recorded file whose cached copy is another render is restored from that render": {
			build: func(t *testing.T, e *env) []planner.Change {
				p := e.had(t, "hero", "hero.png", 3)
				os.Remove(filepath.Join(e.dir, "hero.png"))
				e.cache.files = map[string][]byte{inputs("hero", 3).Digest() + "/imagine": pngOf(t, 5, 5, 99)}
				c := withPrior(create("hero", "hero.png", 3), planner.Replace, p, "image.hero")
				c.FromCache, c.Requests, c.Credits = true, 0, 0
				return []planner.Change{c}
			},
			want: counts{Restored: 1},
			check: func(t *testing.T, e *env, lock map[string]state.Entry) {
				if en := wantEntry(t, e, lock, "hero", "hero.png"); en.SHA256 != sumOf(pngOf(t, 5, 5, 99)) || en.Width != 5 {
					t.Errorf("not the cached render: %+v", en)
				}
			},
		},
		"png body for a jpg path is transcoded": {
			build: func(t *testing.T, e *env) []planner.Change {
				return []planner.Change{create("hero", "hero.jpg", 3)}
			},
			want: counts{Generated: 1, Requests: 1, Credits: 15},
			check: func(t *testing.T, e *env, lock map[string]state.Entry) {
				en := wantEntry(t, e, lock, "hero", "hero.jpg")
				b, _ := os.ReadFile(filepath.Join(e.dir, "hero.jpg"))
				if en.MediaType != media.JPEG || !bytes.HasPrefix(b, []byte("\xff\xd8\xff")) || en.Bytes != int64(len(b)) {
					t.Errorf("not a recorded JPEG: %+v, starts %q", en, b[:4])
				}
				if en.Width != 8 || en.Height != 6 {
					t.Errorf("size %dx%d", en.Width, en.Height)
				}
			},
		},
		"jpeg body for a png path is transcoded": {
			build: func(t *testing.T, e *env) []planner.Change {
				return []planner.Change{create("hero", "hero.png", 3)}
			},
			render: func(t testing.TB) func(context.Context, Request, io.Writer) error {
				return func(_ context.Context, req Request, w io.Writer) error {
					if req.MediaType != media.PNG {
						t.Errorf("request media type %s", req.MediaType)
					}
					_, err := w.Write(jpegOf(t, 16, 9))
					return err
				}
			},
			want: counts{Generated: 1, Requests: 1, Credits: 15},
			check: func(t *testing.T, e *env, lock map[string]state.Entry) {
				en := wantEntry(t, e, lock, "hero", "hero.png")
				if en.MediaType != media.PNG || en.Width != 16 || en.Height != 9 {
					t.Errorf("entry %+v", en)
				}
			},
		},
		"delete, move and create together": {
			update: true,
			build: func(t *testing.T, e *env) []planner.Change {
				g := e.had(t, "gone", "x.png", 1)
				m := e.had(t, "mover", "m.png", 2)
				return []planner.Change{
					create("fresh", "x.png", 5), // takes the deleted image's path
					{Addr: addr("gone"), Action: planner.Delete, Path: "x.png", Prior: g, PriorAddr: addrs.MustParse("image.gone")},
					withPrior(create("mover", "m2.png", 2), planner.Move, m, "image.mover"),
				}
			},
			want: counts{Generated: 1, Moved: 1, Deleted: 1, Requests: 1, Credits: 15},
			check: func(t *testing.T, e *env, lock map[string]state.Entry) {
				wantEntry(t, e, lock, "fresh", "x.png")
				wantEntry(t, e, lock, "mover", "m2.png")
				if len(lock) != 2 {
					t.Errorf("lockfile = %v", lock)
				}
				if got := listFiles(t, e.dir); !slices.Equal(got, []string{"m2.png", "x.png"}) {
					t.Errorf("files = %v", got)
				}
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			changes := tc.build(t, e)
			if tc.render != nil {
				e.prov = &fakeProvider{render: tc.render(t)}
			}
			res, err := e.apply(t, context.Background(), tc.update, changes, nil)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if got := countsOf(res); got != tc.want {
				t.Errorf("counts = %+v, want %+v", got, tc.want)
			}
			if res.Stopped != nil || len(res.Failures) > 0 {
				t.Errorf("stopped %v, failures %v", res.Stopped, res.Failures)
			}
			tc.check(t, e, e.rec.snapshot())
		})
	}
}

// script answers calls in order; the last answer repeats.
func script(t testing.TB, answers ...func(w io.Writer) error) func(context.Context, Request, io.Writer) error {
	var n int
	var mu = make(chan struct{}, 1)
	return func(_ context.Context, req Request, w io.Writer) error {
		mu <- struct{}{}
		i := min(n, len(answers)-1)
		n++
		<-mu
		return answers[i](w)
	}
}

func ok(t testing.TB) func(io.Writer) error {
	return func(w io.Writer) error { _, err := w.Write(pngOf(t, 8, 6, 1)); return err }
}

func fails(class Class, retryAfter time.Duration) func(io.Writer) error {
	return func(io.Writer) error {
		return &Error{Class: class, RetryAfter: retryAfter, Msg: "the API said " + class.String()}
	}
}

func writes(b []byte) func(io.Writer) error {
	return func(w io.Writer) error { _, err := w.Write(b); return err }
}

func TestApplyFailures(t *testing.T) {
	png := pngOf(t, 8, 6, 1)
	jpg := jpegOf(t, 32, 32)
	tests := map[string]struct {
		path       string
		answers    []func(io.Writer) error
		maxRetries int
		failAt     func(op, addr string) error
		want       counts
		wantErr    string
		wantWaits  []time.Duration // exact waits on the clock, when not nil
		waitBelow  []time.Duration // or: each wait below this ceiling
	}{
		"transient then success": {
			answers: []func(io.Writer) error{fails(Transient, 0), ok(t)}, maxRetries: 3,
			want: counts{Generated: 1, Requests: 2, Retries: 1, Credits: 15}, waitBelow: []time.Duration{500 * time.Millisecond},
		},
		"plain error counts as transient": {
			answers: []func(io.Writer) error{func(io.Writer) error { return errors.New("connection reset") }, ok(t)}, maxRetries: 1,
			want: counts{Generated: 1, Requests: 2, Retries: 1, Credits: 15},
		},
		"transient exhausted": {
			answers: []func(io.Writer) error{fails(Transient, 0)}, maxRetries: 2,
			want: counts{Failed: 1, Requests: 3, Retries: 2}, wantErr: "failed after 2 retries",
			waitBelow: []time.Duration{500 * time.Millisecond, time.Second},
		},
		"invalid fails at once": {
			answers: []func(io.Writer) error{fails(Invalid, 0)}, maxRetries: 5,
			want: counts{Failed: 1, Requests: 1}, wantErr: "said invalid",
		},
		"truncated png is retried": {
			answers: []func(io.Writer) error{writes(png[:len(png)-20]), ok(t)}, maxRetries: 1,
			want: counts{Generated: 1, Requests: 2, Retries: 1, Credits: 15},
		},
		"truncated jpeg is retried": {
			path:    "hero.jpg",
			answers: []func(io.Writer) error{writes(jpg[:len(jpg)/2]), writes(jpg)}, maxRetries: 1,
			want: counts{Generated: 1, Requests: 2, Retries: 1, Credits: 15},
		},
		"json body is retried, then fails": {
			answers: []func(io.Writer) error{writes([]byte(`{"status":"error"}`))}, maxRetries: 1,
			want: counts{Failed: 1, Requests: 2, Retries: 1}, wantErr: "not a whole",
		},
		"429 with Retry-After does not count as a retry": {
			answers: []func(io.Writer) error{fails(Throttled, 7*time.Second), fails(Throttled, 7*time.Second), ok(t)}, maxRetries: 0,
			want: counts{Generated: 1, Requests: 3, Throttled: 2, Credits: 15}, wantWaits: []time.Duration{7 * time.Second, 7 * time.Second},
		},
		"429 without Retry-After backs off": {
			answers: []func(io.Writer) error{fails(Throttled, 0), fails(Throttled, 0), ok(t)}, maxRetries: 0,
			want: counts{Generated: 1, Requests: 3, Throttled: 2, Credits: 15}, waitBelow: []time.Duration{250 * time.Millisecond, 500 * time.Millisecond},
		},
		"throttled for ten minutes gives up": {
			// The tenth wait ends at the give-up: no eleventh request.
			answers: []func(io.Writer) error{fails(Throttled, time.Minute)}, maxRetries: 3,
			want: counts{Skipped: 1, Requests: 10, Throttled: 10}, wantErr: "rate-limited every request for 10m0s",
		},
		"fatal stops the run": {
			answers: []func(io.Writer) error{fails(Fatal, 0)}, maxRetries: 3,
			want: counts{Failed: 1, Requests: 1}, wantErr: "said fatal",
		},
		"recorder error stops the run": {
			answers: []func(io.Writer) error{ok(t)}, maxRetries: 3,
			failAt: func(op, addr string) error { return errors.New("disk full") },
			// The image arrived: it was paid for, recorded or not.
			want: counts{Failed: 1, Requests: 1, Credits: 15}, wantErr: "disk full",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			e.prov = &fakeProvider{render: script(t, tc.answers...)}
			path := tc.path
			if path == "" {
				path = "hero.png"
			}
			e.rec = nil
			res, err := e.applyWith(t, []planner.Change{create("hero", path, 1)}, tc.failAt, func(o *Options) { o.MaxRetries = tc.maxRetries })
			if got := countsOf(res); got != tc.want {
				t.Errorf("counts = %+v, want %+v", got, tc.want)
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Apply: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Apply error = %v, want it to contain %q", err, tc.wantErr)
			}
			// What was recorded, and what to do next, is the views' hint
			// to say, once.
			if err != nil && strings.Contains(err.Error(), "recorded") {
				t.Errorf("Apply error = %v: it repeats the hint", err)
			}
			lock := e.rec.snapshot()
			if res.Generated == 1 {
				wantEntry(t, e, lock, "hero", path)
			} else {
				if len(lock) != 0 {
					t.Errorf("lockfile = %v, want empty", lock)
				}
				if tc.failAt == nil && fileSum(t, e.dir, path) != "" {
					t.Errorf("a file is at %s after a failure", path)
				}
			}
			waits := e.clock.waited()
			if tc.wantWaits != nil && !slices.Equal(waits, tc.wantWaits) {
				t.Errorf("waits = %v, want %v", waits, tc.wantWaits)
			}
			if tc.waitBelow != nil {
				if len(waits) != len(tc.waitBelow) {
					t.Errorf("waits = %v, want %d", waits, len(tc.waitBelow))
				}
				for i := range min(len(waits), len(tc.waitBelow)) {
					if waits[i] < 0 || waits[i] >= tc.waitBelow[i] {
						t.Errorf("wait %d = %v, want in [0, %v)", i, waits[i], tc.waitBelow[i])
					}
				}
			}
			var throttled int
			for _, o := range e.lim.outcomes {
				if o.Throttled {
					throttled++
				}
			}
			if throttled != tc.want.Throttled {
				t.Errorf("limiter saw %d throttled outcomes, want %d", throttled, tc.want.Throttled)
			}
		})
	}
}

// applyWith is apply with a failing recorder.
func (e *env) applyWith(t *testing.T, changes []planner.Change, failAt func(op, addr string) error, mod func(*Options)) (*Result, error) {
	t.Helper()
	rec := newFakeRecorder(t, e.dir, e.prior)
	rec.failAt = failAt
	e.rec = rec
	opts := Options{
		Dir: e.dir, Provider: e.prov, Store: rec.store(e.cache), Cache: e.cache, Hooks: e.hooks, Limiter: e.lim,
		Parallelism: 4, MaxRetries: 3, Clock: e.clock, Rand: func() float64 { return 0.5 },
	}
	if mod != nil {
		mod(&opts)
	}
	res, err := Apply(context.Background(), &planner.Plan{Provider: providers.Imagine, Changes: changes}, opts)
	noTempFiles(t, e.dir)
	if len(e.lim.outcomes) != res.Requests {
		t.Errorf("limiter saw %d releases, want %d", len(e.lim.outcomes), res.Requests)
	}
	return res, err
}
