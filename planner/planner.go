package planner

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/hcl/v2"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/internal/safepath"
	"github.com/pixform/pixform/media"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

// FileFact is what the disk says about one path (state.Refresh finds it;
// the planner reads Exists, SHA256 and MediaType).
type FileFact = state.FileFact

// Input is everything a plan is a function of.
type Input struct {
	// Images are the desired images, sorted by address.
	Images []config.Image
	// Lock is the prior state.
	Lock *state.Lock
	// Facts maps a slash-separated relative path to what is on disk there.
	// It must cover every lockfile entry's path and every desired path; a
	// path it lacks counts as missing.
	Facts map[string]FileFact
	// Cached reports whether the content cache holds a render of the
	// inputs with this digest by this provider. Nil means an empty cache.
	Cached func(digest, provider string) bool
	// CacheDamaged reports whether the content cache holds a render of
	// these inputs by this provider whose bytes no longer match their
	// hash (Cached then reports false): the plan requests the image and
	// says why. Nil means none is.
	CacheDamaged func(digest, provider string) bool
	// Provider renders this run: providers.Imagine or providers.Draft.
	Provider string
	// Targets, when not empty, limit the plan to these addresses (a block
	// address such as image.icon selects all its instances).
	Targets []addrs.Addr
	// Replace forces these addresses to be rendered again, with a new seed
	// where the configuration leaves the seed out.
	Replace []addrs.Addr
	// Stored returns the sha256 of the object that the image store
	// records for a render of the inputs with this digest by this
	// provider. Nil means no store.
	Stored func(digest, provider string) (sha256 string, ok bool)
	// InStore reports whether the image store holds the object with this
	// sha256. Nil means no store.
	InStore func(sha256 string) bool
	// StoreUnread says the image store could not be asked (a lenient
	// plan after it failed): InStore knows only the note of uploads, and
	// an object it does not report is not known to be missing from the
	// store, so no reason says the store lacks it.
	StoreUnread bool
	// NoCache plans every create and replace as a request, even when the
	// content cache (or the image store) holds its render.
	NoCache bool
	// NewSeed returns a random seed in 1..providers.MaxSeed, for -replace
	// (a new image is wanted). Injected so that Plan stays a pure
	// function. A created image's seed is DrawnSeed's, not NewSeed's.
	NewSeed func() int64
	// CachedSHA256 returns the hash of the content cache's render of the
	// inputs with this digest by this provider, if it holds one: a derived
	// image of a source restored from the cache is then known at plan
	// time (and may be restored too). Nil leaves such images to apply.
	CachedSHA256 func(digest, provider string) (string, bool)
	// Leftovers judges a file that no lockfile entry records, at a path
	// an interrupted apply was placing an image at or deleting
	// (state.LeftBehind): Holds reports whether the file at path
	// (slash-separated) whose bytes hash to sha256 is that apply's, which
	// a change writing there replaces, and not someone's put there since.
	// Nil: none is.
	// Noted reports whether that apply was placing an image at path: a
	// file there that Holds does not take for its leftover is refused
	// saying so (NotedRefused), since only the user can tell whether it
	// is that leftover, changed, or theirs.
	Leftovers interface {
		Holds(path, sha256 string) bool
		Noted(path string) bool
	}
	// Prices are the credits of one request to each edit endpoint, by
	// operation (edits.Upscale, edits.Transparent, ...), as the provider
	// block sets them; an endpoint without one is unpriced.
	Prices map[string]int
}

// Credits is the vendor's price, in credits, of one image of each priced
// style. sdxl-1.0 is unpriced.
var credits = map[string]int{
	"imagine-turbo": 1,
	"realistic":     5,
	"anime":         5,
	"flux-schnell":  5,
	"flux-dev-fast": 5,
	"flux-dev":      15,
}

// Price returns the credits one image of style costs and whether the vendor
// prices that style.
func Price(style string) (int, bool) {
	c, ok := credits[style]
	return c, ok
}

// Diff plans: it diffs the desired images against the lockfile and the
// disk facts. It does no I/O. The diagnostics report -target or -replace
// addresses that match nothing.
func Diff(in Input) (*Plan, hcl.Diagnostics) {
	p := &planning{in: in, consumed: map[addrs.Addr]bool{}}
	return p.run()
}

type planning struct {
	in Input
	// prefilled is how many images prefill planned (its tests ask).
	prefilled int
	consumed  map[addrs.Addr]bool // lock entries taken over by an address move
	// orphans indexes the undeclared lockfile entries, the candidates for an
	// address move, by prompt, style and ratio; each list in address order.
	orphans map[moveKey][]addrs.Addr
	replace map[addrs.Addr]bool
	// index finds a desired image by address; changes[i] is the change of
	// in.Images[i] once state[i] is stateDone (see changeAt).
	index   map[addrs.Addr]int
	changes []Change
	state   []uint8
	diags   hcl.Diagnostics
	// serial turns prefill off (a test compares both ways).
	serial bool
	// owners is lockOwners', made once.
	ownersOnce sync.Once
	owners     map[string]string
}

func (p *planning) run() (*Plan, hcl.Diagnostics) {
	in := p.in
	var diags hcl.Diagnostics
	lock := in.Lock
	if lock == nil {
		lock = &state.Lock{Images: map[addrs.Addr]state.Entry{}}
	}
	p.in.Lock = lock
	// index also tells which addresses the configuration declares.
	p.index = make(map[addrs.Addr]int, len(in.Images))
	for i := range in.Images {
		p.index[in.Images[i].Addr] = i
	}
	diags = append(diags, p.checkAddrs("-target", in.Targets)...)
	diags = append(diags, p.checkAddrs("-replace", in.Replace)...)
	if diags.HasErrors() {
		return nil, diags
	}
	p.replace = map[addrs.Addr]bool{}
	for _, img := range in.Images {
		if matchesAny(img.Addr, in.Replace) {
			p.replace[img.Addr] = true
		}
	}

	plan := &Plan{Provider: in.Provider}
	// The entries no longer declared, in address order: the others need
	// no order, and are most of a large lockfile.
	var orphans []addrs.Addr
	for key := range lock.Images {
		if _, declared := p.index[key]; !declared {
			orphans = append(orphans, key)
		}
	}
	slices.SortFunc(orphans, addrs.Addr.Compare)
	p.orphans = map[moveKey][]addrs.Addr{}
	for _, key := range orphans {
		k := moveKeyOf(lock.Images[key].Inputs)
		p.orphans[k] = append(p.orphans[k], key)
	}
	p.state = make([]uint8, len(in.Images))
	if len(in.Targets) == 0 {
		// Every image is in the plan, in order: the changes as planned
		// are the plan's, with room for the deletions (one array, made
		// once, not a copy of each change).
		p.changes = make([]Change, len(in.Images), len(in.Images)+len(orphans))
		p.prefill()
		for i := range in.Images {
			p.changeAt(i)
		}
		plan.Changes = p.changes
	} else {
		p.changes = make([]Change, len(in.Images))
		for i, selected := range p.selection() {
			if selected {
				plan.Changes = append(plan.Changes, *p.changeAt(i))
			}
		}
	}
	p.changes = nil
	if p.diags.HasErrors() {
		return nil, p.diags
	}
	for _, addr := range orphans {
		if p.consumed[addr] {
			continue
		}
		if len(in.Targets) > 0 && !matchesAny(addr, in.Targets) {
			continue
		}
		e := lock.Images[addr]
		reasons := []string{"no longer declared in the configuration"}
		if f := p.in.Facts[e.Path]; f.Exists && f.SHA256 != e.SHA256 {
			// The Store keeps a file the user changed: say so now.
			reasons = append(reasons, e.Path+" changed since it was recorded: apply keeps it, and only the entry leaves the lockfile")
		}
		plan.Changes = append(plan.Changes, Change{
			Addr:      addr,
			Action:    Delete,
			Reasons:   reasons,
			Path:      e.Path,
			Prior:     &e,
			PriorAddr: addr,
		})
	}
	byAddr := func(a, b Change) int { return a.Addr.Compare(b.Addr) }
	if !slices.IsSortedFunc(plan.Changes, byAddr) { // images come in order mostly
		slices.SortStableFunc(plan.Changes, byAddr)
	}
	if diags := p.checkPathOwners(plan.Changes); diags.HasErrors() {
		return nil, diags
	}
	refuseBehindOccupied(plan.Changes)
	plan.Summary = Summarize(plan.Changes)
	return plan, nil
}

// ReplaceRequested is the reason of a change that -replace asks for,
// which a saved plan's check looks for (a plan file carries the reasons).
const ReplaceRequested = "-replace requested"

// BehindRefused is in the reason of a change refuseBehindOccupied refuses,
// which apply's error repeats (a plan file carries the reasons).
const BehindRefused = "whose own change is refused"

// refuseBehindOccupied marks Occupied every change that writes the path of
// an entry whose own change is refused: that image stays where it is, and
// the change would overwrite its file and take its path from its entry.
// checkOccupied let such a change through because the entry's change
// moves it away first. Marking one may refuse another that relied on it
// moving away in turn: repeated until nothing changes, along a chain of
// moves.
func refuseBehindOccupied(changes []Change) {
	for {
		var held map[string]int // a refused change's recorded path, case-folded → its index
		for i := range changes {
			c := &changes[i]
			if c.Occupied && c.Prior != nil && safepath.Key(c.Prior.Path) != safepath.Key(c.Path) {
				if held == nil {
					held = map[string]int{}
				}
				held[safepath.Key(c.Prior.Path)] = i
			}
		}
		if len(held) == 0 {
			return
		}
		more := false
		for i := range changes {
			c := &changes[i]
			if c.Occupied || (c.Action != Create && c.Action != Replace && c.Action != Move) {
				continue
			}
			j, ok := held[safepath.Key(c.Path)]
			if !ok || j == i {
				continue
			}
			c.Occupied = true
			c.Reasons = append(c.Reasons, fmt.Sprintf("would overwrite the file of %s at %s, %s: apply refuses this image too and leaves both as they are", changes[j].Addr, c.Path, BehindRefused))
			more = true
		}
		if !more {
			return
		}
	}
}

// checkPathOwners refuses a plan that would write a path the lockfile
// records for an image the plan leaves alone, as happens when -target
// leaves out the image that holds the path now.
func (p *planning) checkPathOwners(changes []Change) hcl.Diagnostics {
	if len(p.in.Lock.Images) == 0 || len(p.in.Targets) == 0 {
		// No path has an owner, or, without -target, every entry is in
		// the plan (kept, replaced, moved or deleted): none is left alone.
		return nil
	}
	touched := make(map[addrs.Addr]bool, len(changes))
	for _, c := range changes {
		if !c.PriorAddr.IsZero() {
			touched[c.PriorAddr] = true
		}
		touched[c.Addr] = true
	}
	// Paths are compared case-folded: on macOS and Windows a path that
	// differs in case only is the same file.
	owner := make(map[string]addrs.Addr, len(p.in.Lock.Images))
	for addr, e := range p.in.Lock.Images {
		owner[safepath.Key(e.Path)] = addr
	}
	var diags hcl.Diagnostics
	for _, c := range changes {
		if c.Action == NoOp || c.Action == Delete {
			continue
		}
		if o, ok := owner[safepath.Key(c.Path)]; ok && !touched[o] {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("%s would overwrite the file of %s", c.Addr, o),
				Detail: fmt.Sprintf("The lockfile records %s for %s, which this plan leaves alone (is it outside -target?). "+
					"Include it with -target=%s, or give %s another path.", p.in.Lock.Images[o].Path, o, o.ShellWord(), c.Addr),
			})
		}
	}
	return diags
}

// checkAddrs reports addresses given on the command line that name nothing
// declared or recorded.
func (p *planning) checkAddrs(flag string, addrList []addrs.Addr) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, a := range addrList {
		found := false
		for _, img := range p.in.Images {
			if matches(img.Addr, a) {
				found = true
				break
			}
		}
		if !found && flag == "-target" {
			for ka := range p.in.Lock.Images {
				if matches(ka, a) {
					found = true
					break
				}
			}
		}
		if !found {
			hint := ""
			if s := config.SuggestAddr(a, p.knownAddrs(flag == "-target")); s != "" {
				hint = fmt.Sprintf(" Did you mean %s?", s)
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("%s=%s matches no image", flag, a),
				Detail:   fmt.Sprintf("No image in the configuration has the address %s.%s Run `pixform state list` or check the image blocks for the right name.", a, hint),
			})
		}
	}
	return diags
}

// knownAddrs returns the declared addresses, and with recorded the
// lockfile's too, in address order: what a mistyped address may have meant.
func (p *planning) knownAddrs(recorded bool) []addrs.Addr {
	known := make([]addrs.Addr, 0, len(p.in.Images))
	for _, img := range p.in.Images {
		known = append(known, img.Addr)
	}
	if recorded {
		for ka := range p.in.Lock.Images {
			if _, declared := p.index[ka]; !declared {
				known = append(known, ka)
			}
		}
	}
	slices.SortFunc(known, addrs.Addr.Compare)
	return known
}

// change plans one image. src is the change of the image it is made
// from, nil when it is not made from one.
func (p *planning) change(img *config.Image, src *Change) Change {
	c, replaceRequested, restorable := p.changeUnpriced(img, src)
	n := len(c.Reasons)
	p.price(&c, replaceRequested, restorable)
	if c.Action == Replace && c.Prior != nil {
		// What the replace clears of a review depends on the bytes it
		// writes, which the price decides: said before the price's reason.
		c.KeepsApproval = p.keepsApproval(&c)
		c.Reasons = slices.Insert(c.Reasons, n, reviewCleared(c.Prior, c.Inputs, c.KeepsApproval)...)
	}
	if c.Inputs.Candidates > 1 && (c.Action == Create || c.Action == Replace) {
		if at, picked := p.placedTake(&c, c.Inputs.TakeSeeds()); picked {
			c.Picked = at
		}
	}
	p.checkOccupied(&c)
	return c
}

// checkOccupied marks a change that writes a path other than its own
// recorded one where a file is that no lockfile entry records there (a
// file of the user's, or one changed by hand since): c.Occupied, which
// apply refuses, and a reason that says so. A file that holds the very
// bytes the change writes (a move's, or a restore's) is simply kept as
// the image's, and one an interrupted apply left (Leftovers: judged by
// the bytes the facts found, so that a file the user put there since is
// refused) replaced. It reads only the facts, and the lockfile's paths
// only for a change whose path holds a file: no work for the others.
func (p *planning) checkOccupied(c *Change) {
	if c.Action != Create && c.Action != Replace && c.Action != Move {
		return
	}
	if c.Prior != nil && safepath.Key(c.Prior.Path) == safepath.Key(c.Path) {
		return // its own file: a replace overwrites it by design
	}
	f := p.in.Facts[c.Path]
	if !f.Exists {
		return
	}
	if f.SHA256 != "" {
		if sum, ok := p.lockOwners()[safepath.Key(c.Path)]; ok && sum == f.SHA256 {
			// The recorded file of another entry, which this plan
			// moves or deletes first.
			return
		}
		if p.writes(c, f.SHA256) {
			c.Reasons = append(c.Reasons, fmt.Sprintf("%s already holds the bytes it writes (sha256 %s): the file is kept as this image's", c.Path, shortSum(f.SHA256)))
			return
		}
	}
	if p.in.Leftovers != nil && f.SHA256 != "" && p.in.Leftovers.Holds(c.Path, f.SHA256) {
		c.Reasons = append(c.Reasons, fmt.Sprintf("replaces the file that an interrupted apply left at %s", c.Path))
		return
	}
	c.Occupied = true
	if p.in.Leftovers != nil && f.SHA256 != "" && p.in.Leftovers.Noted(c.Path) {
		c.Reasons = append(c.Reasons, fmt.Sprintf("would overwrite a file at %s that the lockfile does not record, %s: apply refuses this image and leaves the file; %s", c.Path, NotedRefused, NotedWhatToDo))
		return
	}
	c.Reasons = append(c.Reasons, fmt.Sprintf("would overwrite a file at %s that the lockfile does not record: apply refuses this image and leaves the file; move it away (or delete it) first", c.Path))
}

// NotedRefused is in the reason of a change refused for a file at a path
// an interrupted apply was placing an image at (Input.Leftovers.Noted),
// whose bytes are not an image pixform knows it made: that apply's
// leftover, changed since, or the user's file. NotedWhatToDo says what
// to do about it.
const (
	NotedRefused  = state.NotedNotOurs
	NotedWhatToDo = "if you did not put it there, delete it; if it is yours, move it away"
)

// writes reports whether sum is of the bytes a change puts at its path,
// as far as the plan knows them: a move's recorded bytes, a restore's, or
// those of a take of a candidates image that the content cache or the
// image store holds (a pick killed while it changed the file leaves
// another take there than the one apply puts back).
func (p *planning) writes(c *Change, sum string) bool {
	switch {
	case c.Action == Move && c.Prior != nil:
		return c.Prior.SHA256 == sum
	case c.Inputs.Candidates > 1:
		// Only the take apply places there (PlacedTake), not any of
		// them: another take's bytes (a pick cut off before the cache
		// noted it) would be overwritten by that one.
		seeds := c.Inputs.TakeSeeds()
		at, _ := p.placedTake(c, seeds)
		s, ok := p.takeSHA256(c.Inputs.Take(seeds[at-1]).Digest())
		return ok && s == sum
	case c.FromStore:
		return c.StoreSHA256 == sum
	case c.FromCache:
		s, ok := p.cachedSHA256(c)
		return ok && s == sum
	}
	return false
}

// takeSHA256 is the hash of the render of a take with inputs digest d
// that the content cache or the image store holds.
func (p *planning) takeSHA256(d string) (string, bool) {
	if p.in.CachedSHA256 != nil {
		if s, ok := p.in.CachedSHA256(d, p.in.Provider); ok {
			return s, true
		}
	}
	if p.in.Stored != nil {
		return p.in.Stored(d, p.in.Provider)
	}
	return "", false
}

// lockOwners maps each path the lockfile records (safepath.Key) to the
// sha256 recorded there, made on first use: prefill may ask on several
// goroutines.
func (p *planning) lockOwners() map[string]string {
	p.ownersOnce.Do(func() {
		p.owners = make(map[string]string, len(p.in.Lock.Images))
		for _, e := range p.in.Lock.Images {
			p.owners[safepath.Key(e.Path)] = e.SHA256
		}
	})
	return p.owners
}

// changeUnpriced is change up to its price (p.price with the other
// results), which is all of it for a change that is not a Create or a
// Replace. For an image recorded at its own address, not derived and not
// to be replaced, it only reads (with no image store to ask): prefill
// calls it on several goroutines.
func (p *planning) changeUnpriced(img *config.Image, src *Change) (c Change, replaceRequested bool, restorable string) {
	return p.changeOf(img, src, false)
}

// changeOf is changeUnpriced; with probe set, for prefill, an image
// recorded at its own address whose inputs changed comes back as a bare
// Replace as soon as that is known: changeAt works it out again, and
// prices it, in order, so that what would be worked out here is dropped.
func (p *planning) changeOf(img *config.Image, src *Change, probe bool) (c Change, replaceRequested bool, restorable string) {
	in := p.in
	key := img.Addr
	c = Change{Addr: img.Addr, Path: img.Path}
	c.Inputs = state.Inputs{Prompt: img.Prompt, Style: img.Style, AspectRatio: img.AspectRatio, Seed: img.Seed}
	p.deriveInputs(img, src, &c)
	c.Inputs.Candidates = candidatesOf(img)
	replaceRequested = p.replace[key]

	prior, hasPrior := in.Lock.Images[key]
	// A derived image is not taken over from another address: its inputs
	// hold the hash of a source that may be changing in this very plan.
	if !hasPrior && !replaceRequested && !img.Derived() {
		if okey, ok := p.findMoveSource(img); ok {
			prior, hasPrior = in.Lock.Images[okey], true
			p.consumed[okey] = true
			c.PriorAddr = okey
			c.Reasons = append(c.Reasons, fmt.Sprintf("moved from %s", okey))
		}
	}
	if !hasPrior {
		c.Action = Create
		if needsSeed(img) {
			p.pickSeed(&c, false)
		}
		return c, false, ""
	}
	if c.PriorAddr.IsZero() {
		c.PriorAddr = key
	}
	c.Prior = &prior
	if c.Inputs.Seed == 0 && needsSeed(img) {
		if replaceRequested {
			p.pickSeed(&c, true)
		} else {
			c.Inputs.Seed = priorSeed(prior, c.Inputs)
		}
	}
	if probe && !replaceRequested && c.PriorAddr == key && inputsDiffer(prior.Inputs, c.Inputs) {
		return Change{Addr: img.Addr, Action: Replace}, false, ""
	}

	reasons := append(inputChanges(prior.Inputs, c.Inputs), derivedChanges(prior.Inputs, c.Inputs)...)
	if c.AfterApply != "" {
		reasons = append(reasons, c.AfterApply)
	}
	inputsChanged := len(reasons) > 0
	switch {
	case replaceRequested && c.SeedChosen:
		// The seed is new because -replace asked for a new render, not
		// because the configuration changed it.
		reasons = slices.DeleteFunc(reasons, func(r string) bool { return strings.HasPrefix(r, "seed changed:") })
		reasons = append([]string{ReplaceRequested}, reasons...)
		reasons = append(reasons, fmt.Sprintf("new seed because of -replace: %d → %d", prior.Inputs.Seed, c.Inputs.Seed))
	case replaceRequested:
		reasons = append(reasons, ReplaceRequested)
	}
	fact := in.Facts[prior.Path]
	c.Missing = !fact.Exists
	drift := ""
	switch {
	case !fact.Exists:
		drift = "file missing on disk"
	case fact.SHA256 != prior.SHA256:
		drift = "file modified on disk"
		if m := formatMismatch(prior.Path, fact.MediaType); m != "" {
			drift += ": it " + m
		}
	default:
		// The bytes are the recorded ones; their format is what was sniffed
		// or else what the lockfile records for them.
		held := fact.MediaType
		if held == "" {
			held = prior.MediaType
		}
		if m := formatMismatch(prior.Path, held); m != "" {
			drift = "file " + m
		}
	}
	// A path of another format is a new file: the bytes must be converted,
	// which a move does not do.
	formatChange := ""
	if from, to := mediaTypeOf(prior.Path), mediaTypeOf(img.Path); from != to && from != "" && to != "" {
		formatChange = fmt.Sprintf("format changes from %s to %s", formatName(from), formatName(to))
	}

	switch {
	case in.Provider == providers.Draft && prior.Provider == providers.Imagine && !inputsChanged && !replaceRequested &&
		!(drift != "" && formatChange == "" && p.remakesHere(&c, src)):
		// A draft run never overwrites a real render whose inputs are
		// unchanged, drifted or not; a local edit whose file alone
		// drifted is no render: it is made again (remakesHere).
		if (prior.Path != img.Path || c.PriorAddr != key) && drift == "" && formatChange == "" {
			// Moved, by path or by address alone: no render either way.
			c.Action = Move
			if prior.Path != img.Path {
				c.Reasons = append(c.Reasons, pathChange(prior.Path, img.Path))
			}
		} else {
			c.Action = NoOp
			c.Path = prior.Path
			if drift == "" {
				drift = formatChange
			}
			if drift != "" {
				c.Reasons = append(c.Reasons, drift+"; left for an imagine run (a draft run never overwrites an imagine render)")
			}
		}
	case inputsChanged || replaceRequested || drift != "" || formatChange != "" ||
		(prior.Provider == providers.Draft && in.Provider == providers.Imagine):
		c.Action = Replace
		if prior.Provider == providers.Draft && in.Provider == providers.Imagine {
			reasons = append(reasons, "rendered by draft")
		}
		if drift != "" {
			reasons = append(reasons, drift)
		}
		if formatChange != "" {
			reasons = append(reasons, formatChange)
		}
		if prior.Path != img.Path {
			reasons = append(reasons, pathChange(prior.Path, img.Path))
		}
		c.Reasons = append(c.Reasons, reasons...)
		if !inputsChanged && !replaceRequested && formatChange == "" && prior.Provider == in.Provider {
			// Only the file drifted: the recorded bytes themselves are
			// the image to put back.
			restorable = prior.SHA256
		}
	case prior.Path != img.Path:
		c.Action = Move
		c.Reasons = append(c.Reasons, pathChange(prior.Path, img.Path))
	case c.PriorAddr != key:
		c.Action = Move
	default:
		c.Action = NoOp
	}
	if (c.Action == NoOp || c.Action == Move) && in.InStore != nil && fact.Exists && fact.SHA256 == prior.SHA256 && (!in.InStore(prior.SHA256) || takesToUpload(prior, in.InStore)) {
		c.Upload = true
	}
	return c, replaceRequested, restorable
}

// remakesHere reports whether c, recorded as made by imagine with its
// inputs unchanged, is a local edit (no request) that any run, a draft
// one included, makes again with the very bytes recorded: its source is
// a checked-in file (its hash is in the inputs), or an image src whose
// file holds its recorded bytes and stays in this plan. Only an image
// whose file drifted asks (a map lookup).
func (p *planning) remakesHere(c *Change, src *Change) bool {
	if !c.Inputs.Derived() || Endpoint(c.Inputs) != EndpointLocal {
		return false
	}
	if _, isAddr := c.Inputs.SourceAddr(); !isAddr {
		return true
	}
	if src == nil || src.Prior == nil || (src.Action != NoOp && src.Action != Move) || src.Prior.SHA256 != c.Inputs.SourceSHA256 {
		return false
	}
	f := p.in.Facts[src.Prior.Path]
	return f.Exists && f.SHA256 == src.Prior.SHA256
}

// judgePutBack judges c, whose file alone drifted, restored by source
// ("the local cache", "the image store") with the bytes restored:
// a put-back (PutBack) when they are those its entry records; when they
// are not, source records another render of its inputs than the
// lockfile, and a reason says so, with what to do. restored "" (not
// known) is neither.
func (p *planning) judgePutBack(c *Change, source string, take int, recorded, restored string) {
	switch restored {
	case recorded:
		c.PutBack = true
	case "":
	default:
		c.Reasons = append(c.Reasons, divergedReason(c, source, take, recorded, restored))
	}
}

// divergedRender is in the reason of a change whose entry records other
// bytes than the content cache or the image store holds for its inputs.
const divergedRender = "records another render of"

// divergedReason says that source holds another render (sum restored) of
// the inputs of c (of its take take, when not 0) than the lockfile
// records (recorded), and what to do.
func divergedReason(c *Change, source string, take int, recorded, restored string) string {
	of := "these inputs"
	if take > 0 {
		of = fmt.Sprintf("take %d's inputs", take)
	}
	return fmt.Sprintf("%s %s %s (sha256 %s) than the lockfile (sha256 %s): was this entry put together from two sides of a merge? "+
		"Take its inputs and its sha256 from one side, or take that render with `pixform state rm %s` then `pixform apply` (no request)",
		source, divergedRender, of, shortSum(restored), shortSum(recorded), c.Addr.ShellWord())
}

// fromStore makes c a restore of the store's object sum: no request.
func (p *planning) fromStore(c *Change, sum string) {
	c.FromStore, c.StoreSHA256 = true, sum
	c.Requests, c.Credits, c.CreditsKnown = 0, 0, false
	c.Reasons = append(c.Reasons, "restored from the image store, no request")
}

// formatMismatch says how a file at p that holds the media type held
// contradicts p's extension ("holds JPEG bytes but its path says PNG"),
// or "" when they agree or either is unknown.
func formatMismatch(p, held string) string {
	want := mediaTypeOf(p)
	if want == "" || held == "" || held == want {
		return ""
	}
	return fmt.Sprintf("holds %s bytes but its path says %s", formatName(held), formatName(want))
}

// mediaTypeOf returns the media type that p's extension names, "" for none.
func mediaTypeOf(p string) string {
	mt, _ := media.OfPath(p)
	return mt
}

// formatName names a media type for people: "PNG", "JPEG".
func formatName(mediaType string) string {
	switch mediaType {
	case media.PNG:
		return "PNG"
	case media.JPEG:
		return "JPEG"
	}
	return "unrecognised"
}

// findMoveSource looks for an undeclared lockfile entry that this image can
// take over without a request: same prompt, style and ratio, the same seed
// when the configuration sets one, a provider this run accepts, and its file
// intact on disk.
func (p *planning) findMoveSource(img *config.Image) (addrs.Addr, bool) {
	var best addrs.Addr
	for _, key := range p.orphans[moveKey{img.Prompt, img.Style, img.AspectRatio}] {
		if p.consumed[key] {
			continue
		}
		e := p.in.Lock.Images[key]
		if !InputsMatch(img, e.Inputs) {
			continue
		}
		if e.Provider == providers.Draft && p.in.Provider == providers.Imagine {
			continue
		}
		if f := p.in.Facts[e.Path]; !f.Exists || f.SHA256 != e.SHA256 {
			continue
		}
		if e.Path == img.Path {
			return key, true
		}
		if best.IsZero() {
			best = key
		}
	}
	return best, !best.IsZero()
}

// moveKey is what an address move must keep: the inputs but the seed.
type moveKey struct{ prompt, style, ratio string }

func moveKeyOf(in state.Inputs) moveKey { return moveKey{in.Prompt, in.Style, in.AspectRatio} }

// pickSeed gives c, whose configuration sets no seed, the seed the plan
// chooses: a new random one for -replace (force), else DrawnSeed's.
func (p *planning) pickSeed(c *Change, force bool) {
	if c.Inputs.Seed != 0 && !force {
		return
	}
	if !force {
		c.Inputs.Seed = DrawnSeed(c.Addr, c.Inputs)
		c.SeedChosen = true
		return
	}
	if p.in.NewSeed == nil {
		panic("planner: Input.NewSeed is nil and an image needs a seed")
	}
	c.Inputs.Seed = p.in.NewSeed()
	c.SeedChosen = true
}

// DrawnSeed is the seed of a created image whose configuration sets none:
// drawn from its address and the inputs it is asked with (not the source's
// bytes, which a plan may not know yet), as evenly as a random one over
// 1..providers.MaxSeed, and the same in every plan. So a first apply that
// was interrupted, or a watch save undone, finds again the renders it
// paid for (the content cache keys them by seed), and a plan shown is the
// plan applied. Two images declared alike at two addresses get two seeds.
// The count of candidates is left out: raising it keeps the takes made.
func DrawnSeed(addr addrs.Addr, in state.Inputs) int64 {
	h := sha256.New()
	var n [8]byte
	for _, s := range [...]string{"pixform drawn seed 1", addr.String(), in.Prompt, in.Style, in.AspectRatio, in.Operation} {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	sum := h.Sum(nil)
	return int64(binary.BigEndian.Uint64(sum[:8])%uint64(providers.MaxSeed)) + 1
}

// price fills in whether a render needs a request, and what it costs. A
// forced render (-replace) and a run with NoCache never restore from the
// content cache: the user asked for a new render. Nor from the image
// store, which comes after the local cache: first the object restorable,
// the recorded bytes of an image whose file alone drifted, then the
// store's record of a render of c's inputs.
func (p *planning) price(c *Change, forced bool, restorable string) {
	if c.Action != Create && c.Action != Replace {
		return
	}
	putBackOf := restorable
	c.Forced = forced || p.in.NoCache
	if pr := c.Prior; pr == nil || pr.Path != c.Path || c.PriorAddr != c.Addr {
		// Not its own path and address: restored there, the recorded
		// bytes make a new file, which is no put-back.
		putBackOf = ""
	}
	if c.Inputs.Candidates > 1 {
		p.priceTakes(c, restorable, putBackOf)
		return
	}
	// restores says the render may be restored, from the local cache or
	// the image store, rather than requested.
	restores := !c.Forced && c.AfterApply == ""
	if restores && p.in.Cached != nil {
		if p.in.Cached(c.Inputs.Digest(), p.in.Provider) {
			c.FromCache = true
			c.Reasons = append(c.Reasons, "restored from the local cache, no request")
			if putBackOf != "" && p.in.CachedSHA256 != nil {
				sum, _ := p.in.CachedSHA256(c.Inputs.Digest(), p.in.Provider)
				p.judgePutBack(c, "the local cache", 0, putBackOf, sum)
			}
			return
		}
		if p.in.CacheDamaged != nil && p.in.CacheDamaged(c.Inputs.Digest(), p.in.Provider) {
			c.Reasons = append(c.Reasons, "not restored from the local cache: its copy changed since it was saved (it no longer matches its hash)")
		}
	}
	if restores && restorable != "" && p.in.InStore != nil && p.in.InStore(restorable) {
		p.fromStore(c, restorable)
		// The store's record of a render of these inputs is not asked
		// whether it names the recorded bytes: it names the first render
		// anyone pushed, an equally valid one (a -replace of an image
		// whose seed is set renders the same inputs again, and the
		// record keeps the first), so other bytes there are no sign of
		// an entry mixed from two sides of a merge; and asking would
		// cost a request to the store for each image of a clone without
		// outputs. The recorded bytes themselves are put back.
		c.PutBack = putBackOf != ""
		return
	}
	// The recorded bytes of an image whose file alone drifted, which the
	// store lacks: pushed from a clone that has them, they would be put
	// back with no request. Not when the store could not be asked: the
	// plan's warning says so, and a push would meet the same failure.
	lacks := restores && restorable != "" && p.in.InStore != nil && !p.in.StoreUnread
	if restores && p.in.Stored != nil {
		if sum, ok := p.in.Stored(c.Inputs.Digest(), p.in.Provider); ok {
			p.fromStore(c, sum)
			if lacks {
				c.StoreLacks = true
				c.Reasons = append(c.Reasons, fmt.Sprintf("%s (sha256 %s), and holds another render of these inputs (sha256 %s): run `pixform push` in a clone that has %s, or apply takes that render",
					storeLacksRecorded, shortSum(restorable), shortSum(sum), c.Path))
			}
			return
		}
	}
	p.priceOf(c)
	if lacks {
		c.StoreLacks = true
		c.Reasons = append(c.Reasons, fmt.Sprintf("%s (sha256 %s): run `pixform push` in a clone that has %s; apply would render it anew",
			storeLacksRecorded, shortSum(restorable), c.Path))
	}
}

// storeLacksRecorded begins the reason of a change whose recorded bytes,
// which it would put back, the image store lacks.
const storeLacksRecorded = "the image store lacks its recorded bytes"

// prefillFrom is the fewest images whose changes prefill works out on
// several goroutines.
const prefillFrom = 512

// prefill plans, on up to GOMAXPROCS goroutines, the images whose change
// only reads what the planning holds and needs no price: each recorded
// at its own address, neither derived nor to be replaced, with no image
// store to ask, whose change is no change or a move (most images of a
// large plan). It marks them done; changeAt then plans the others in
// order, as it plans every image without it, with the same result (none
// of those prefill plans takes anything another image could take).
func (p *planning) prefill() {
	in := &p.in
	if p.serial || len(in.Images) < prefillFrom || in.InStore != nil {
		return
	}
	workers := min(runtime.GOMAXPROCS(0), 8)
	if workers < 2 {
		return
	}
	var wg sync.WaitGroup
	var next, done atomic.Int64
	defer func() { p.prefilled = int(done.Load()) }()
	const chunk = 256
	for range workers {
		wg.Go(func() {
			for {
				start := int(next.Add(chunk)) - chunk
				if start >= len(in.Images) {
					return
				}
				for i := start; i < min(start+chunk, len(in.Images)); i++ {
					img := &in.Images[i]
					if !img.From.IsZero() || img.Derived() || p.replace[img.Addr] {
						continue
					}
					if _, recorded := in.Lock.Images[img.Addr]; !recorded {
						continue
					}
					c, _, _ := p.changeOf(img, nil, true)
					if c.Action != NoOp && c.Action != Move {
						continue // priced, in order, by changeAt
					}
					p.sourceRenamed(&c)
					p.checkOccupied(&c)
					p.changes[i] = c
					p.state[i] = stateDone
					done.Add(1)
				}
			}
		})
	}
	wg.Wait()
}

// inputsDiffer reports whether inputChanges(old, new) names a change,
// without saying what it is.
func inputsDiffer(old, new state.Inputs) bool {
	return old.Prompt != new.Prompt || old.Style != new.Style || old.AspectRatio != new.AspectRatio ||
		old.Seed != new.Seed || old.Takes() != new.Takes()
}

func inputChanges(old, new state.Inputs) []string {
	var r []string
	if old.Prompt != new.Prompt {
		if d, ok := wordDiff(old.Prompt, new.Prompt); ok {
			r = append(r, "prompt changed: "+d)
		} else {
			r = append(r, fmt.Sprintf("prompt changed: %s → %s", quote(old.Prompt), quote(new.Prompt)))
		}
	}
	if old.Style != new.Style {
		r = append(r, fmt.Sprintf("style changed: %s → %s", quote(old.Style), quote(new.Style)))
	}
	if old.AspectRatio != new.AspectRatio {
		r = append(r, fmt.Sprintf("aspect_ratio changed: %s → %s", quote(old.AspectRatio), quote(new.AspectRatio)))
	}
	if old.Seed != new.Seed {
		r = append(r, fmt.Sprintf("seed changed: %d → %d", old.Seed, new.Seed))
	}
	if old.Takes() != new.Takes() {
		r = append(r, fmt.Sprintf("candidates changed: %d → %d", old.Takes(), new.Takes()))
	}
	return r
}

func pathChange(old, new string) string {
	return fmt.Sprintf("path changed: %s → %s", old, new)
}

// quote renders a prompt for a reason line: quoted, and shortened in the
// middle when long so the line stays readable.
func quote(s string) string {
	const max = 80
	r := []rune(s)
	if len(r) > max {
		s = string(r[:max/2-1]) + "…" + string(r[len(r)-max/2+1:])
	}
	return fmt.Sprintf("%q", s)
}

// matches reports whether a selects addr: equal, or a is addr's block.
func matches(addr, a addrs.Addr) bool {
	return addr == a || (a.Kind == addrs.NoKey && addr.Name == a.Name)
}

func matchesAny(addr addrs.Addr, list []addrs.Addr) bool {
	for _, a := range list {
		if matches(addr, a) {
			return true
		}
	}
	return false
}

// Blocked returns the addresses of the creates and replaces that apply
// does not make because the image they are made from (directly or
// through a chain) is a change it refuses (Occupied): apply makes no
// image from a source it did not record this run. Nil when none is
// refused, as in almost every plan.
func Blocked(changes []Change) map[string]bool {
	var refused map[string]bool
	for i := range changes {
		if c := &changes[i]; c.Occupied {
			if refused == nil {
				refused = map[string]bool{}
			}
			refused[c.Addr.String()] = true
		}
	}
	if len(refused) == 0 {
		return nil
	}
	blocked := map[string]bool{}
	for grew := true; grew; {
		grew = false
		for i := range changes {
			c := &changes[i]
			a := c.Addr.String()
			if c.Action != Create && c.Action != Replace || c.Occupied || blocked[a] || c.Inputs.Source == "" {
				continue
			}
			if refused[c.Inputs.Source] || blocked[c.Inputs.Source] {
				blocked[a], grew = true, true
			}
		}
	}
	return blocked
}

// Summarize counts changes and adds up their cost.
func Summarize(changes []Change) Summary {
	var s Summary
	blocked := Blocked(changes)
	for _, c := range changes {
		switch c.Action {
		case Create:
			s.Create++
		case Replace:
			s.Replace++
		case Move:
			s.Move++
		case Delete:
			s.Delete++
		default:
			s.NoOp++
		}
		if c.FromStore {
			s.FromStore++
		}
		if c.Upload {
			s.Upload++
		}
		if c.Occupied {
			s.Refused++
			continue
		}
		if blocked[c.Addr.String()] {
			s.Blocked++
			continue
		}
		s.Requests += c.Requests
		if c.Requests > 0 {
			if c.CreditsKnown {
				s.Credits += c.Credits
			} else {
				s.UnpricedRequests += c.Requests
			}
		}
	}
	return s
}
