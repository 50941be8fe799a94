package executor

import (
	"fmt"
	"path"
	"sync"

	"github.com/pixform/pixform/internal/safepath"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/state"
)

// vacates is the order of the changes that take over a path another
// change of the plan leaves (its recorded path, which it moves, renders
// or deletes away from): such a change waits for that one to have left
// the path, and fails, alone, when it failed, so that its image keeps its
// file and entry. Moves among themselves are ordered by the Store
// (state.HeldError); a move that takes a path a render leaves is done
// once that render is recorded (deferred), not with the other moves.
//
// Paths taken over in a cycle (images that swap paths) cannot each wait
// for the other to leave: in a cycle with a render, one render is the
// cycle's breaker, and the change taking its path waits only for its
// image to be made (not recorded): once it is, nothing of the cycle but
// the local disk can fail, and each commit deletes the entry whose path
// it takes. A cycle of moves only is the Store's to stage.
//
// A nil *vacates (a plan where no path is left for another change to
// take, nearly every plan) orders nothing and costs nothing.
type vacates struct {
	// holder maps a change that takes over a path to the change that
	// leaves it.
	holder map[*planner.Change]*leaving
	// early holds the changes that wait only for the image of the
	// breaker they take the path of to be made.
	early map[*planner.Change]bool
	// leavers maps a change that leaves a path some change takes over
	// to what it did.
	leavers map[*planner.Change]*leaving
	// deferred holds the moves that wait for a render (or for a move
	// that does): they are carried out once it is recorded.
	deferred map[*planner.Change]bool
	// breakers holds the renders that break a cycle.
	breakers map[*planner.Change]bool
	// alone holds the renders that wait, along the changes whose paths
	// they take, for a render started by another's record (a derived
	// image): they run on goroutines of their own (order).
	alone map[*planner.Change]bool

	mu sync.Mutex // guards the fields of each leaving
}

// leaving is what became of a change that leaves a path another takes.
type leaving struct {
	c    *planner.Change
	done chan struct{} // closed once c has finished
	made chan struct{} // closed once c's image is made, or c finished
	// finished says how c finished (set before done closes): left is
	// true when it left the path, failed when it failed (not skipped).
	left, failed bool
	madeOK       bool // c's image was made (set before made closes)
}

// newVacates returns the order of plan's changes that take over a path
// another change leaves, or nil when there are none. g, the plan's
// graph, locates the sources of derived images (nil: none).
func newVacates(plan *planner.Plan, g *graph) *vacates {
	var left map[string]*planner.Change // a path left, case-folded → the change leaving it
	for i := range plan.Changes {
		c := &plan.Changes[i]
		if c.Prior == nil {
			continue
		}
		switch c.Action {
		case planner.Move, planner.Replace:
			if c.Prior.Path == c.Path || safepath.Key(c.Prior.Path) == safepath.Key(c.Path) {
				continue
			}
		case planner.Delete:
		default:
			continue
		}
		if left == nil {
			left = map[string]*planner.Change{}
		}
		left[safepath.Key(c.Prior.Path)] = c
	}
	if left == nil {
		return nil
	}
	v := &vacates{holder: map[*planner.Change]*leaving{}, early: map[*planner.Change]bool{}, leavers: map[*planner.Change]*leaving{}, deferred: map[*planner.Change]bool{}, breakers: map[*planner.Change]bool{}}
	for i := range plan.Changes {
		c := &plan.Changes[i]
		switch c.Action {
		case planner.Create, planner.Replace, planner.Move:
		default:
			continue
		}
		if c.Occupied { // refused: it writes nothing
			continue
		}
		l, ok := left[safepath.Key(c.Path)]
		if !ok || l == c {
			continue
		}
		lv := v.leavers[l]
		if lv == nil {
			lv = &leaving{c: l, done: make(chan struct{}), made: make(chan struct{})}
			v.leavers[l] = lv
		}
		v.holder[c] = lv
	}
	v.unblockDependents(g)
	if len(v.holder) == 0 {
		return nil
	}
	v.breakCycles(plan)
	v.deferMoves(plan)
	return v
}

// unblockDependents drops each wait that a derived image's own start
// waits for: a change taking the path of an image made (directly or
// through others) from a render that waits, along the changes whose
// paths it takes in turn, for that change. The derived image starts only
// once its source is recorded, so neither could go on (a source taking
// its own upscale's path, a swap, a rotation). Such a change does not
// wait: it replaces the derived image's old file, its recorded render,
// and the derived image is made again from its source, as before the
// waits; its old file stays in the content cache when pixform made it
// here. Only changes leaving a path some change takes are walked, and
// only when they are derived: nearly every plan walks nothing.
func (v *vacates) unblockDependents(g *graph) {
	if g == nil {
		return
	}
	var drop []*planner.Change
	for t, l := range v.holder {
		if _, derived := l.c.Inputs.SourceAddr(); !derived || l.c.Action == planner.Move {
			continue
		}
		if v.reaches(g, l.c, t) {
			drop = append(drop, t)
		}
	}
	if len(drop) == 0 {
		return
	}
	for _, t := range drop {
		delete(v.holder, t)
	}
	held := make(map[*leaving]bool, len(v.holder))
	for _, l := range v.holder {
		held[l] = true
	}
	for c, l := range v.leavers {
		if !held[l] {
			delete(v.leavers, c)
		}
	}
}

// reaches reports whether d, a derived image, waits, before it starts,
// for t: along its sources that the plan renders and the changes whose
// paths each of those takes.
func (v *vacates) reaches(g *graph, d, t *planner.Change) bool {
	seen := map[*planner.Change]bool{}
	stack := []*planner.Change{d}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		// c starts once its source is recorded: the source, and what
		// the source waits for.
		src, ok := c.Inputs.SourceAddr()
		if !ok || c.Action == planner.Move || !g.rendering(src) {
			continue
		}
		for s := g.change(src); s != nil && !seen[s]; s = v.next(s) {
			if s == t {
				return true
			}
			seen[s] = true
			stack = append(stack, s)
		}
	}
	return false
}

// next returns the change that c waits for, or nil.
func (v *vacates) next(c *planner.Change) *planner.Change {
	if l, ok := v.holder[c]; ok {
		return l.c
	}
	return nil
}

// breakCycles finds the cycles of changes that take each other's paths
// and picks a breaker for each that holds a render: the first render in
// plan order. The change that takes the breaker's path waits only for
// its image (early).
func (v *vacates) breakCycles(plan *planner.Plan) {
	const (
		unseen = iota
		walking
		seen
	)
	mark := make(map[*planner.Change]int, len(v.holder))
	for i := range plan.Changes {
		start := &plan.Changes[i]
		if _, ok := v.holder[start]; !ok || mark[start] != unseen {
			continue
		}
		var walk []*planner.Change
		c := start
		for c != nil && mark[c] == unseen {
			mark[c] = walking
			walk = append(walk, c)
			c = v.next(c)
		}
		if c != nil && mark[c] == walking {
			// c is on a cycle: from c to the end of the walk.
			var breaker *planner.Change
			for d := c; ; {
				if d.Action == planner.Replace && (breaker == nil || d.Addr.Less(breaker.Addr)) {
					breaker = d
				}
				if d = v.next(d); d == c {
					break
				}
			}
			if breaker != nil {
				v.breakers[breaker] = true
				for d := c; ; d = v.next(d) {
					if v.next(d) == breaker {
						v.early[d] = true
						break
					}
				}
			}
		}
		for _, d := range walk {
			mark[d] = seen
		}
	}
}

// deferMoves marks deferred each move that waits, along the changes
// whose paths it takes in turn, for a render.
func (v *vacates) deferMoves(plan *planner.Plan) {
	known := map[*planner.Change]bool{} // decided: deferred[c] says which way
	for i := range plan.Changes {
		start := &plan.Changes[i]
		if start.Action != planner.Move || known[start] {
			continue
		}
		var walk []*planner.Change
		on := map[*planner.Change]bool{}
		c, deferred := start, false
		for {
			if known[c] {
				deferred = v.deferred[c]
				break
			}
			if c.Action != planner.Move {
				deferred = c.Action == planner.Create || c.Action == planner.Replace
				break
			}
			if on[c] { // a cycle of moves: the Store's
				break
			}
			on[c] = true
			walk = append(walk, c)
			if c = v.next(c); c == nil {
				break
			}
		}
		for _, d := range walk {
			known[d] = true
			if deferred {
				v.deferred[d] = true
			}
		}
	}
}

// order returns roots, the renders that start at once, in plan order
// but for those that wait for another to leave their paths: each comes
// after the render it waits for, along the moves in between, so that
// every wait is for one started before it, which holds its own worker
// and slots and needs none of the waiting one's. A cycle's breaker has
// no such edge: it waits only once its image is made, which the rest of
// its cycle needs. Where a chain leads to a render that is not a root (a
// derived image), its renders run alone instead.
func (v *vacates) order(roots []*planner.Change) []*planner.Change {
	if v == nil {
		return roots
	}
	root := map[*planner.Change]bool{}
	for _, c := range roots {
		if _, ok := v.holder[c]; ok || v.leavers[c] != nil {
			root[c] = true
		}
	}
	v.alone = map[*planner.Change]bool{}
	placed := make(map[*planner.Change]bool, len(root))
	out := make([]*planner.Change, 0, len(roots))
	for _, c := range roots {
		if !root[c] {
			out = append(out, c)
			continue
		}
		if placed[c] {
			continue
		}
		var chain []*planner.Change
		d, alone := c, false
		for steps := 0; d != nil && !placed[d] && steps <= len(v.holder)+1; steps++ {
			switch {
			case root[d]:
				placed[d] = true
				chain = append(chain, d)
			case v.deferred[d]: // carried out after the render it waits for
			case d.Action == planner.Create || d.Action == planner.Replace:
				alone = true // started by its source's record
			}
			if alone || (!root[d] && !v.deferred[d]) || v.breakers[d] {
				break
			}
			d = v.next(d)
		}
		if d != nil && placed[d] && v.alone[d] {
			alone = true // it waits for one that runs alone
		}
		for i := len(chain) - 1; i >= 0; i-- {
			out = append(out, chain[i])
			if alone {
				v.alone[chain[i]] = true
			}
		}
	}
	return out
}

// runsAlone reports whether c runs on a goroutine of its own (order).
func (v *vacates) runsAlone(c *planner.Change) bool {
	return v != nil && v.alone[c]
}

// holds reports whether c waits for another change to leave its path.
func (v *vacates) holds(c *planner.Change) bool {
	if v == nil {
		return false
	}
	_, ok := v.holder[c]
	return ok
}

// isDeferred reports whether c is a move carried out after a render.
func (v *vacates) isDeferred(c *planner.Change) bool {
	return v != nil && v.deferred[c]
}

// finish notes how c finished, if another change waits for it and it had
// not finished before: left, or failed, or neither (skipped).
func (v *vacates) finish(c *planner.Change, left, failed bool) {
	if v == nil {
		return
	}
	l, ok := v.leavers[c]
	if !ok {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	select {
	case <-l.done:
		return
	default:
	}
	l.left, l.failed = left, failed
	close(l.done)
	select {
	case <-l.made:
	default:
		l.madeOK = left
		close(l.made)
	}
}

// madeFor notes that c's image is made, for the change that waits only
// for that (early), and reports whether c is a cycle's breaker.
func (v *vacates) madeFor(c *planner.Change) bool {
	if v == nil || !v.breakers[c] {
		return false
	}
	l := v.leavers[c]
	v.mu.Lock()
	defer v.mu.Unlock()
	select {
	case <-l.made:
	default:
		l.madeOK = true
		close(l.made)
	}
	return true
}

// wait waits for the change whose path c takes to leave it (or, early,
// for its image to be made), or for done to close. It returns the
// *state.HeldError to fail c with when that change failed, skipped true
// when it did not run (or done closed first), and neither when c may go
// on.
func (v *vacates) wait(c *planner.Change, done <-chan struct{}) (held *state.HeldError, skipped bool) {
	if v == nil {
		return nil, false
	}
	l, ok := v.holder[c]
	if !ok {
		return nil, false
	}
	ch := l.done
	if v.early[c] {
		ch = l.made
	}
	select {
	case <-ch:
	default:
		select {
		case <-ch:
		case <-done:
			return nil, true
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	switch {
	case v.early[c] && l.madeOK, !v.early[c] && l.left:
		return nil, false
	case l.failed:
		return &state.HeldError{Path: c.Path, Holder: l.c.Addr}, false
	}
	return nil, true
}

// failedFirst reports, without waiting, the *state.HeldError to fail c
// with when the change leaving c's path has already failed (a move of a
// saved plan, say, which runs before any render), or nil.
func (v *vacates) failedFirst(c *planner.Change) *state.HeldError {
	if v == nil {
		return nil
	}
	l, ok := v.holder[c]
	if !ok {
		return nil
	}
	select {
	case <-l.done:
	default:
		return nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if !l.failed {
		return nil
	}
	return &state.HeldError{Path: c.Path, Holder: l.c.Addr}
}

// refuseHeld fails c, and reports true, when the change leaving its path
// has already failed: nothing is requested or made for c.
func (r *run) refuseHeld(c *planner.Change) bool {
	he := r.vac.failedFirst(c)
	if he == nil {
		return false
	}
	r.fail(c, heldError(c, he, false))
	return true
}

// heldError is the failure of c, refused because the change that leaves
// its path failed (he); kept says that the image made is in the content
// cache.
func heldError(c *planner.Change, he *state.HeldError, kept bool) error {
	msg := fmt.Sprintf("refused: %v; fix %s, then plan and apply again", he, he.Holder)
	if kept {
		msg += " (" + keptNote(c) + ")"
	}
	return &Error{Class: Invalid, Msg: msg}
}

// vacated waits, before c's image (out, in its temporary file) is put in
// place, for the change whose path c takes over to have left it. It
// reports whether c may go on; when not, it has failed c (or counted it
// skipped) and given out up, kept in the content cache first when cache
// says the image is paid for and not there yet.
func (r *run) vacated(c *planner.Change, out output, cache bool) bool {
	v := r.vac
	if v == nil {
		return true
	}
	if v.breakers[c] {
		// A cycle's breaker: the image taking its path may be placed
		// before its own is recorded, and a kill in between loses its
		// entry; it is restored from the cache then, so it goes there
		// before the other is told.
		if cache {
			r.keepMade(c, out)
		}
		v.madeFor(c)
	}
	if !v.holds(c) {
		return true
	}
	// The first Ctrl-C (startCtx) ends the wait: the image is counted
	// skipped, and its paid render is kept in the content cache.
	held, skipped := v.wait(c, r.startCtx.Done())
	if held == nil && !skipped {
		return true
	}
	kept := cache && out.tmp != nil && r.keepMade(c, out)
	if out.tmp != nil {
		r.store.AbortTemp(out.tmp)
	}
	if skipped {
		if kept {
			r.hooks.Warn(c, fmt.Sprintf("not placed: %s, whose path it takes, was not carried out; the image made is kept in the local cache", v.next(c).Addr))
		}
		r.skip(1)
		return false
	}
	r.fail(c, heldError(c, held, kept || r.takesKept(c)))
	return false
}

// keepMade puts c's image, out, in the content cache, and reports whether
// it did.
func (r *run) keepMade(c *planner.Change, out output) bool {
	k, ok := r.opts.Cache.(TakeKeeper)
	if !ok || r.opts.Cache == nil {
		return false
	}
	if err := k.Keep(c.Inputs.Digest(), r.provider, out.tmp, path.Ext(c.Path), out.sha256); err != nil {
		r.hooks.Warn(c, fmt.Sprintf("could not keep %s in the content cache: %v", c.Path, err))
		return false
	}
	return true
}
