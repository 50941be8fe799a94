package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

// newVacates orders the changes that take a path another change leaves:
// each waits for that one (chains), the change taking a cycle's breaker's
// path (the first render of the cycle) only for its image (early), and a
// move that waits for a render, or for a move that does, is deferred. A
// plan where no path is taken over orders nothing; a cycle of moves only
// is the Store's.
func TestVacatesOrder(t *testing.T) {
	type ch struct {
		name   string
		act    planner.Action
		from   string // prior path, "" for none
		to     string
		refuse bool // Occupied
	}
	tests := map[string]struct {
		changes []ch
		waits   map[string]string // change → the change it waits for
		early   []string
		defer_  []string
		breaker []string
	}{
		"no path taken":               {changes: []ch{{"a", planner.Replace, "a.png", "a.png", false}, {"b", planner.Move, "b.png", "c.png", false}, {"c", planner.Create, "", "d.png", false}}},
		"a case change takes nothing": {changes: []ch{{"a", planner.Move, "A.png", "a.png", false}, {"b", planner.Create, "", "A.png", false}}},
		"chain": {
			changes: []ch{{"a", planner.Move, "a.png", "b.png", false}, {"b", planner.Replace, "b.png", "c.png", false}, {"c", planner.Move, "c.png", "d.png", false}},
			waits:   map[string]string{"a": "b", "b": "c"},
			defer_:  []string{"a"},
		},
		"moves only": {
			changes: []ch{{"a", planner.Move, "a.png", "b.png", false}, {"b", planner.Move, "b.png", "c.png", false}},
			waits:   map[string]string{"a": "b"},
		},
		"a delete": {
			changes: []ch{{"a", planner.Create, "", "b.png", false}, {"b", planner.Delete, "b.png", "b.png", false}},
			waits:   map[string]string{"a": "b"},
		},
		"a refused change waits for nothing": {
			changes: []ch{{"a", planner.Move, "a.png", "b.png", true}, {"b", planner.Replace, "b.png", "c.png", false}},
		},
		"render swap": {
			changes: []ch{{"a", planner.Replace, "a.png", "b.png", false}, {"b", planner.Replace, "b.png", "a.png", false}},
			waits:   map[string]string{"a": "b", "b": "a"},
			early:   []string{"b"}, breaker: []string{"a"},
		},
		"mixed cycle": {
			changes: []ch{{"a", planner.Move, "a.png", "b.png", false}, {"b", planner.Move, "b.png", "c.png", false}, {"c", planner.Replace, "c.png", "a.png", false}, {"d", planner.Move, "d.png", "c.png.2", false}},
			waits:   map[string]string{"a": "b", "b": "c", "c": "a"},
			early:   []string{"b"}, breaker: []string{"c"},
			defer_: []string{"a", "b"},
		},
		"move cycle": {
			changes: []ch{{"a", planner.Move, "a.png", "b.png", false}, {"b", planner.Move, "b.png", "a.png", false}},
			waits:   map[string]string{"a": "b", "b": "a"},
		},
		"a tail into a cycle": {
			changes: []ch{{"a", planner.Replace, "a.png", "b.png", false}, {"b", planner.Replace, "b.png", "a.png", false}, {"t", planner.Move, "t.png", "a.png.x", false}, {"u", planner.Move, "u.png", "t.png", false}},
			waits:   map[string]string{"a": "b", "b": "a", "u": "t"},
			early:   []string{"b"}, breaker: []string{"a"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			plan := &planner.Plan{}
			for _, c := range tc.changes {
				pc := planner.Change{Addr: addr(c.name), Action: c.act, Path: c.to, Occupied: c.refuse}
				if c.from != "" {
					pc.Prior = &state.Entry{Path: c.from}
				}
				plan.Changes = append(plan.Changes, pc)
			}
			v := newVacates(plan, newGraph(plan))
			if len(tc.waits) == 0 {
				if v != nil {
					t.Fatalf("newVacates = %+v, want nil", v)
				}
				return
			}
			if v == nil {
				t.Fatal("newVacates = nil")
			}
			var early, deferred, breakers []string
			for i := range plan.Changes {
				c := &plan.Changes[i]
				want, wants := tc.waits[c.Addr.Name]
				switch n := v.next(c); {
				case wants && (n == nil || n.Addr.Name != want):
					t.Errorf("%s waits for %v, want %s", c.Addr, n, want)
				case !wants && n != nil:
					t.Errorf("%s waits for %s, want nothing", c.Addr, n.Addr)
				}
				if v.early[c] {
					early = append(early, c.Addr.Name)
				}
				if v.isDeferred(c) {
					deferred = append(deferred, c.Addr.Name)
				}
				if v.breakers[c] {
					breakers = append(breakers, c.Addr.Name)
				}
			}
			if !slices.Equal(early, tc.early) || !slices.Equal(deferred, tc.defer_) || !slices.Equal(breakers, tc.breaker) {
				t.Errorf("early %v, deferred %v, breakers %v; want %v, %v, %v", early, deferred, breakers, tc.early, tc.defer_, tc.breaker)
			}
		})
	}
}

// An image that takes the path another image's change leaves fails when
// that change fails, alone: the other image keeps its file and entry,
// and the image made (paid for) is kept in the content cache. Along a
// chain, in a swap of renders, in a swap of a move and a render; and
// when nothing fails, each goes through (a rotation of many images with
// one worker too, which must not wait on itself).
func TestApplyHeldByAFailedChange(t *testing.T) {
	type ch struct {
		name     string
		act      planner.Action
		from, to string
	}
	tests := map[string]struct {
		changes []ch
		fails   string   // the image whose request fails, "" for none
		held    []string // the images refused for it
		kept    []string // of those, the ones whose render is in the cache
	}{
		"chain of renders": {
			changes: []ch{{"a", planner.Replace, "a.png", "b.png"}, {"b", planner.Replace, "b.png", "c.png"}, {"c", planner.Replace, "c.png", "d.png"}},
			fails:   "c", held: []string{"a", "b"}, kept: []string{"a", "b"},
		},
		"a move behind a render": {
			changes: []ch{{"a", planner.Move, "a.png", "b.png"}, {"b", planner.Replace, "b.png", "c.png"}},
			fails:   "b", held: []string{"a"},
		},
		"a render behind a move behind a render": {
			changes: []ch{{"a", planner.Replace, "a.png", "b.png"}, {"b", planner.Move, "b.png", "c.png"}, {"c", planner.Replace, "c.png", "d.png"}},
			fails:   "c", held: []string{"a", "b"}, kept: []string{"a"},
		},
		"render swap, the breaker fails": {
			changes: []ch{{"a", planner.Replace, "a.png", "b.png"}, {"b", planner.Replace, "b.png", "a.png"}},
			fails:   "a", held: []string{"b"}, kept: []string{"b"},
		},
		"render swap, the other fails": {
			changes: []ch{{"a", planner.Replace, "a.png", "b.png"}, {"b", planner.Replace, "b.png", "a.png"}},
			fails:   "b", held: []string{"a"}, kept: []string{"a"},
		},
		"move and render swap": {
			changes: []ch{{"a", planner.Move, "a.png", "b.png"}, {"b", planner.Replace, "b.png", "a.png"}},
			fails:   "b", held: []string{"a"},
		},
		"render swap":                         {changes: []ch{{"a", planner.Replace, "a.png", "b.png"}, {"b", planner.Replace, "b.png", "a.png"}}},
		"move and render swap, nothing fails": {changes: []ch{{"a", planner.Move, "a.png", "b.png"}, {"b", planner.Replace, "b.png", "c.png"}, {"c", planner.Replace, "c.png", "a.png"}}},
	}
	var rotation []ch
	for i := range 40 {
		rotation = append(rotation, ch{fmt.Sprintf("r%02d", i), planner.Replace, fmt.Sprintf("r%02d.png", i), fmt.Sprintf("r%02d.png", (i+1)%40)})
	}
	tests["rotation, one worker"] = struct {
		changes []ch
		fails   string
		held    []string
		kept    []string
	}{changes: rotation}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			var changes []planner.Change
			before := map[string]string{}
			for i, c := range tc.changes {
				p := e.had(t, c.name, c.from, int64(i+1))
				before[c.from] = p.SHA256
				pc := create(c.name, c.to, int64(i+1))
				if c.act == planner.Replace {
					pc.Inputs = inputs(c.name+" anew", int64(i+100))
				}
				changes = append(changes, withPrior(pc, c.act, p, "image."+c.name))
			}
			e.prov = &fakeProvider{render: func(ctx context.Context, req Request, w io.Writer) error {
				if req.Addr.Name == tc.fails {
					return &Error{Class: Invalid, Msg: "the server refused it"}
				}
				return renderPNG(t)(ctx, req, w)
			}}
			res, err := e.apply(t, context.Background(), false, changes, func(o *Options) {
				if strings.HasPrefix(name, "rotation") {
					o.Parallelism = 1
				}
			})
			if tc.fails == "" {
				if err != nil {
					t.Fatalf("Apply: %v", err)
				}
				got := e.rec.snapshot()
				for _, c := range tc.changes {
					if en, ok := got["image."+c.name]; !ok || en.Path != c.to || fileSum(t, e.dir, c.to) != en.SHA256 {
						t.Errorf("%s: entry %+v, want it at %s with its file", c.name, en, c.to)
					}
				}
				return
			}
			if err == nil {
				t.Fatal("Apply succeeded")
			}
			var refused []string
			for _, f := range res.Failures {
				if f.Addr.Name == tc.fails {
					continue
				}
				refused = append(refused, f.Addr.Name)
				msg := f.Err.Error()
				var pe *Error
				if !errors.As(f.Err, &pe) || !strings.Contains(msg, "whose change failed: nothing was changed at") || !strings.Contains(msg, "then plan and apply again") {
					t.Errorf("%s: %v", f.Addr, f.Err)
				}
				// One that starts after the change it waits for failed
				// is refused with no request, so has nothing to keep.
				requested := e.prov.callsOf(f.Addr.String()) > 0
				if want := slices.Contains(tc.kept, f.Addr.Name) && requested; strings.Contains(msg, "kept in the local cache") != want {
					t.Errorf("%s: %v; want kept in the cache: %v", f.Addr, f.Err, want)
				}
			}
			if !slices.Equal(refused, tc.held) {
				t.Errorf("refused %v, want %v", refused, tc.held)
			}
			// Every prior file and entry is as it was.
			got := e.rec.snapshot()
			for _, c := range tc.changes {
				if en, ok := got["image."+c.name]; !ok || en.Path != c.from || en.SHA256 != before[c.from] {
					t.Errorf("%s: entry %+v, want it as it was at %s", c.name, en, c.from)
				}
				if s := fileSum(t, e.dir, c.from); s != before[c.from] {
					t.Errorf("%s holds %q, want the prior image", c.from, s)
				}
			}
			for i, c := range changes {
				want := slices.Contains(tc.kept, c.Addr.Name) && e.prov.callsOf(c.Addr.String()) > 0
				if want != e.cache.Has(changes[i].Inputs.Digest(), providers.Imagine) && c.Action == planner.Replace {
					t.Errorf("%s in the cache: %v, want %v", c.Addr, !want, want)
				}
			}
		})
	}
}

// The renders that start at once start after the render whose path they
// take (along the moves in between), a cycle's breaker first; one that
// waits for an image made from another runs alone.
func TestVacatesStartOrder(t *testing.T) {
	type ch struct {
		name     string
		act      planner.Action
		from, to string
		source   string // the image it is made from, "" for none
	}
	tests := map[string]struct {
		changes []ch
		want    []string
		alone   []string
	}{
		"nothing taken":  {changes: []ch{{"a", planner.Create, "", "a.png", ""}, {"b", planner.Replace, "b.png", "b.png", ""}}, want: []string{"a", "b"}},
		"chain":          {changes: []ch{{"a", planner.Replace, "a.png", "b.png", ""}, {"b", planner.Replace, "b.png", "c.png", ""}, {"c", planner.Replace, "c.png", "d.png", ""}, {"d", planner.Create, "", "e.png", ""}}, want: []string{"c", "b", "a", "d"}},
		"through a move": {changes: []ch{{"a", planner.Replace, "a.png", "b.png", ""}, {"b", planner.Move, "b.png", "c.png", ""}, {"c", planner.Replace, "c.png", "d.png", ""}}, want: []string{"c", "a"}},
		"swap":           {changes: []ch{{"a", planner.Replace, "a.png", "b.png", ""}, {"b", planner.Replace, "b.png", "a.png", ""}}, want: []string{"a", "b"}},
		"rotation":       {changes: []ch{{"a", planner.Replace, "a.png", "b.png", ""}, {"b", planner.Replace, "b.png", "c.png", ""}, {"c", planner.Replace, "c.png", "a.png", ""}}, want: []string{"a", "c", "b"}},
		"behind a derived image": {
			changes: []ch{{"a", planner.Replace, "a.png", "d.png", ""}, {"b", planner.Replace, "b.png", "b.png", ""}, {"d", planner.Replace, "d.png", "e.png", "image.b"}, {"z", planner.Replace, "z.png", "a.png", ""}},
			want:    []string{"a", "b", "z"}, alone: []string{"a", "z"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			plan := &planner.Plan{}
			for _, c := range tc.changes {
				pc := planner.Change{Addr: addr(c.name), Action: c.act, Path: c.to, Inputs: inputs(c.name, 1)}
				if c.source != "" {
					pc.Inputs.Operation, pc.Inputs.Source = "upscale", c.source
				}
				if c.from != "" {
					pc.Prior = &state.Entry{Path: c.from}
				}
				plan.Changes = append(plan.Changes, pc)
			}
			var renders []*planner.Change
			for i := range plan.Changes {
				if a := plan.Changes[i].Action; a == planner.Create || a == planner.Replace {
					renders = append(renders, &plan.Changes[i])
				}
			}
			v := newVacates(plan, newGraph(plan))
			var got, alone []string
			for _, c := range v.order(newGraph(plan).split(renders)) {
				got = append(got, c.Addr.Name)
				if v.runsAlone(c) {
					alone = append(alone, c.Addr.Name)
				}
			}
			slices.Sort(alone)
			if !slices.Equal(got, tc.want) || !slices.Equal(alone, tc.alone) {
				t.Errorf("order %v, alone %v; want %v, %v", got, alone, tc.want, tc.alone)
			}
		})
	}
}

// The first Ctrl-C ends the wait of an image for the change leaving its
// path: the image is counted skipped, its paid render kept in the cache,
// and the change it waited for, in flight, finishes.
func TestApplyFirstStopEndsAWait(t *testing.T) {
	e := newEnv(t)
	pa := e.had(t, "a", "a.png", 1)
	pb := e.had(t, "b", "b.png", 2)
	ca := create("a", "b.png", 1)
	ca.Inputs = inputs("a anew", 101)
	cb := create("b", "c.png", 2)
	cb.Inputs = inputs("b anew", 102)
	changes := []planner.Change{withPrior(ca, planner.Replace, pa, "image.a"), withPrior(cb, planner.Replace, pb, "image.b")}
	stop := make(chan struct{})
	var stopOnce sync.Once
	gaveUp := make(chan struct{}) // closed once a says it was not placed
	e.hooks.onWarn = func(c *planner.Change, msg string) {
		if c.Addr.Name == "a" && strings.Contains(msg, "not placed") {
			close(gaveUp)
		}
	}
	bStarted := make(chan struct{})
	e.prov = &fakeProvider{render: func(ctx context.Context, req Request, w io.Writer) error {
		if req.Addr.Name == "a" {
			<-bStarted
		}
		if req.Addr.Name == "b" {
			close(bStarted)
			// b is in flight until a gives up (or, before the fix, a
			// long while: a waited for b whatever the stop). The while
			// is a hang guard: however slow the machine, a gives up
			// within it.
			select {
			case <-gaveUp:
			case <-time.After(2 * time.Minute):
			}
		}
		err := renderPNG(t)(ctx, req, w)
		if req.Addr.Name == "a" {
			stopOnce.Do(func() { close(stop) })
		}
		return err
	}}
	res, err := e.apply(t, context.Background(), false, changes, func(o *Options) {
		o.Parallelism = 2
		o.Stop = stop
	})
	if !errors.Is(err, ErrInterrupted) && !errors.Is(res.Stopped, ErrInterrupted) {
		t.Fatalf("Apply: %v, want it interrupted", err)
	}
	select {
	case <-gaveUp:
	default:
		t.Fatal("a did not give up its wait at the stop")
	}
	got := e.rec.snapshot()
	if en := got["image.a"]; en.Path != "a.png" || en.SHA256 != pa.SHA256 {
		t.Errorf("a: entry %+v, want it as it was", en)
	}
	if en := got["image.b"]; en.Path != "c.png" {
		t.Errorf("b: entry %+v, want it at c.png (in flight, it finishes)", en)
	}
	if !e.cache.Has(changes[0].Inputs.Digest(), providers.Imagine) {
		t.Error("a's render is not in the cache")
	}
	if res.Skipped != 1 || res.Generated != 1 {
		t.Errorf("counts %+v, want 1 generated, 1 skipped", countsOf(res))
	}
}
