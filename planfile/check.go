package planfile

import (
	"fmt"
	"slices"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/executor"
	"github.com/pixform/pixform/media"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

// Disk is what CheckAgainst may ask of the working directory: whether
// the file of a lockfile entry still holds the recorded bytes. It is
// asked only of a replace that neither the configuration, the lockfile
// nor -replace explains, which a drifted file alone does.
type Disk interface {
	Holds(e state.Entry) bool
	// HoldsFile reports whether the checked-in file at path (a derived
	// image's source or mask) hashes to sha256hex. It is asked only of
	// an image the plan keeps or moves.
	HoldsFile(path, sha256hex string) bool
}

// dirDisk is the working directory dir as a Disk.
type dirDisk string

// Holds reads e's file through the path rules (no symbolic link, inside
// the directory), at most e.Bytes of it, and reports whether it hashes to
// e.SHA256.
func (d dirDisk) Holds(e state.Entry) bool {
	_, err := state.ReadVerified(string(d), e.Path, e.SHA256, e.Bytes)
	return err == nil
}

// HoldsFile reads the file at path through the path rules, at most as
// much of it as apply would send, and reports whether it hashes to
// sha256hex.
func (d dirDisk) HoldsFile(path, sha256hex string) bool {
	_, err := state.ReadVerified(string(d), path, sha256hex, executor.MaxSourceBytes)
	return err == nil
}

// DirDisk is the working directory dir, for CheckAgainst.
func DirDisk(dir string) Disk { return dirDisk(dir) }

// CheckAgainst verifies that every change of a saved plan, a no-op
// included, is one that planning the configuration and lockfile it claims
// to come from can give, so that a damaged or edited plan file can neither
// write anywhere the configuration does not say, nor keep an image whose
// inputs changed, nor render one again that nothing asks for. replace are
// the -replace addresses the plan was made with; disk is asked about a
// replace only they or a drifted file explain (nil: none is explained).
func CheckAgainst(p *planner.Plan, cfg *config.Config, lock *state.Lock, replace []addrs.Addr, disk Disk) error {
	return checkAgainst(p, cfg, lock, replace, disk, false)
}

// Check is CheckAgainst for the plan file f: its -replace addresses, and
// its format's rules (a format 1 file drew a created image's seed at
// random; a later one draws planner.DrawnSeed's).
func (f *File) Check(cfg *config.Config, lock *state.Lock, disk Disk) error {
	return checkAgainst(f.Plan, cfg, lock, f.Replace, disk, f.randomSeeds)
}

// checkAgainst is CheckAgainst; randomSeeds says that a created image's
// seed was drawn at random, not by planner.DrawnSeed.
func checkAgainst(p *planner.Plan, cfg *config.Config, lock *state.Lock, replace []addrs.Addr, disk Disk, randomSeeds bool) error {
	byAddr := make(map[addrs.Addr]*planner.Change, len(p.Changes))
	for i := range p.Changes {
		byAddr[p.Changes[i].Addr] = &p.Changes[i]
	}
	// taken are the lockfile entries a change starts from: each once.
	taken := make(map[addrs.Addr]addrs.Addr, len(p.Changes))
	for i := range p.Changes {
		c := &p.Changes[i]
		if c.Prior != nil {
			got, ok := lock.Images[c.PriorAddr]
			if !ok || !got.Equal(*c.Prior) {
				return fmt.Errorf("%s: the recorded prior entry %s is not in the lockfile", c.Addr, c.PriorAddr)
			}
			if other, dup := taken[c.PriorAddr]; dup {
				return fmt.Errorf("%s and %s both start from the lockfile's entry %s", other, c.Addr, c.PriorAddr)
			}
			taken[c.PriorAddr] = c.Addr
		}
	}
	if err := checkReplaceList(p, cfg, byAddr, replace); err != nil {
		return err
	}
	moves := moveSources{cfg: cfg, lock: lock, taken: taken, disk: disk, provider: p.Provider}
	for i := range p.Changes {
		c := &p.Changes[i]
		if c.Action == planner.Delete {
			if _, declared := cfg.Lookup(c.Addr); declared {
				return fmt.Errorf("it deletes %s, which is declared", c.Addr)
			}
			continue
		}
		img, ok := cfg.Lookup(c.Addr)
		if !ok {
			return fmt.Errorf("%s is not declared", c.Addr)
		}
		// A draft run keeps an imagine render where it is, even when the
		// path changed.
		draftKeeps := c.Action == planner.NoOp && c.Prior != nil && p.Provider == providers.Draft &&
			c.Prior.Provider == providers.Imagine && c.Path == c.Prior.Path
		if (img.Path != c.Path && !draftKeeps) || !planner.InputsMatch(&img, c.Inputs) {
			return fmt.Errorf("%s differs from its declaration", c.Addr)
		}
		if ep := planner.Endpoint(c.Inputs); c.Requests > 0 && ep != planner.EndpointTextToImage {
			price, known := cfg.Provider.Price(ep)
			if c.CreditsKnown != known || c.Credits != price {
				return fmt.Errorf("%s: its credits do not match the price the configuration sets", c.Addr)
			}
		}
		if err := checkSource(c, byAddr, lock, disk); err != nil {
			return err
		}
		if err := checkAction(c, &img, p.Provider, cfg, lock, replace, disk); err != nil {
			return err
		}
		if err := checkSeed(c, &img, replace, randomSeeds); err != nil {
			return err
		}
		if c.Action == planner.Create {
			if err := moves.check(c, &img, replace); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkReplaceList refuses a -replace list that the plan's changes do not
// show: an address that the configuration does not declare (the planner
// refuses it), or an image the list names whose change, in the plan, is
// not the render that -replace gives (with -target an image may be left
// out of the plan: that is not a change).
func checkReplaceList(p *planner.Plan, cfg *config.Config, byAddr map[addrs.Addr]*planner.Change, replace []addrs.Addr) error {
	for _, a := range replace {
		named := 0
		for i := range cfg.Images {
			img := &cfg.Images[i]
			if !requested(img.Addr, []addrs.Addr{a}) {
				continue
			}
			named++
			c := byAddr[img.Addr]
			if c == nil {
				continue
			}
			if c.Action != planner.Replace && c.Action != planner.Create {
				return fmt.Errorf("it was made with -replace=%s, but the plan does not replace %s (its change is a %s)", a, img.Addr, c.Action)
			}
			// A create says nothing of -replace: there was nothing to
			// replace.
			if c.Action == planner.Replace && !slices.Contains(c.Reasons, planner.ReplaceRequested) {
				return fmt.Errorf("it was made with -replace=%s, but the plan's %s of %s does not say it is one (no %q among its reasons)", a, c.Action, img.Addr, planner.ReplaceRequested)
			}
			// A replace -replace asks for is forced: one the plan file
			// lets apply restore from the content cache would not be the
			// new render asked for.
			if c.Action == planner.Replace && !c.Forced {
				return fmt.Errorf("it was made with -replace=%s, but the plan's %s of %s is not forced (a render -replace asks for is never restored from the cache)", a, c.Action, img.Addr)
			}
		}
		if named == 0 {
			return fmt.Errorf("it was made with -replace=%s, which the configuration does not declare", a)
		}
	}
	return nil
}

// checkSeed refuses a seed that planning would not give c: a declared
// seed is compared with the declaration already; an undeclared one is the
// lockfile's (PriorSeed), kept by a replace for any other reason, new
// only where -replace picks one, and planner.DrawnSeed's where the image
// is created (any, in a file whose seeds were drawn at random).
func checkSeed(c *planner.Change, img *config.Image, replace []addrs.Addr, randomSeeds bool) error {
	if img.Seed != 0 || !planner.NeedsSeed(img) {
		return nil
	}
	if c.Prior == nil {
		if drawn := planner.DrawnSeed(c.Addr, c.Inputs); c.Action == planner.Create && !randomSeeds && !requested(c.Addr, replace) && c.Inputs.Seed != drawn {
			return fmt.Errorf("%s is created with seed %d, but its configuration sets none, and the seed planning draws for it is %d", c.Addr, c.Inputs.Seed, drawn)
		}
		return nil
	}
	recorded := planner.PriorSeed(*c.Prior, c.Inputs)
	switch {
	case c.Action == planner.Replace && requested(c.Addr, replace):
		if !c.SeedChosen {
			return fmt.Errorf("%s is replaced as -replace asks, but with its recorded seed %d: -replace picks a new one", c.Addr, recorded)
		}
	case c.Inputs.Seed != recorded || c.SeedChosen:
		return fmt.Errorf("%s is rendered with seed %d, but the lockfile records seed %d, which the plan keeps (only -replace picks a new one)", c.Addr, c.Inputs.Seed, recorded)
	}
	return nil
}

// moveSources finds the lockfile entry that an image created by a plan
// would be moved from, as the planner moves one: an entry no longer
// declared, not taken by another change, with inputs the image matches,
// of a provider the run accepts, its file intact. Its index of such
// entries is made once, on the first create, and only if there is one.
type moveSources struct {
	cfg      *config.Config
	lock     *state.Lock
	taken    map[addrs.Addr]addrs.Addr
	disk     Disk
	provider string
	orphans  map[[3]string][]addrs.Addr // by prompt, style and ratio
}

// check refuses c, a create, when the planner would have moved an entry
// to it instead: a render where a move costs no request.
func (m *moveSources) check(c *planner.Change, img *config.Image, replace []addrs.Addr) error {
	if img.Derived() || requested(c.Addr, replace) || len(m.lock.Images) == 0 {
		return nil
	}
	if m.orphans == nil {
		m.orphans = map[[3]string][]addrs.Addr{}
		for a, e := range m.lock.Images {
			if _, declared := m.cfg.Lookup(a); !declared {
				k := [3]string{e.Inputs.Prompt, e.Inputs.Style, e.Inputs.AspectRatio}
				m.orphans[k] = append(m.orphans[k], a)
			}
		}
	}
	for _, a := range m.orphans[[3]string{img.Prompt, img.Style, img.AspectRatio}] {
		if by, t := m.taken[a]; t && by != a {
			continue // moved to another image (a delete takes it from itself)
		}
		e := m.lock.Images[a]
		if !planner.InputsMatch(img, e.Inputs) || e.Provider == providers.Draft && m.provider == providers.Imagine {
			continue
		}
		if m.disk != nil && !m.disk.Holds(e) {
			continue
		}
		return fmt.Errorf("%s is created, but the lockfile's entry %s holds it (the same inputs, its file intact): the plan would move it, with no request", c.Addr, a)
	}
	return nil
}

// checkAction refuses an action the planner would not choose for c from
// the configuration (img) and the lockfile: a create of a recorded
// address, a no-op or move of an image that must be rendered again, a
// move from an entry still declared, a replace that nothing asks for.
func checkAction(c *planner.Change, img *config.Image, provider string, cfg *config.Config, lock *state.Lock, replace []addrs.Addr, disk Disk) error {
	if c.Action == planner.Create {
		if _, recorded := lock.Images[c.Addr]; recorded {
			return fmt.Errorf("%s is created, but the lockfile records it", c.Addr)
		}
		return nil
	}
	prior := c.Prior
	if prior == nil {
		return fmt.Errorf("%s is a %s without a prior entry", c.Addr, c.Action)
	}
	// A draft run never overwrites an imagine render whose inputs are
	// unchanged: it keeps it where it is.
	draftKeeps := c.Action == planner.NoOp && provider == providers.Draft && prior.Provider == providers.Imagine && !inputsChanged(c)
	if c.PriorAddr != c.Addr {
		if c.Action == planner.NoOp && !draftKeeps {
			return fmt.Errorf("%s is kept unchanged, but the lockfile records it at another address, %s", c.Addr, c.PriorAddr)
		}
		if _, declared := cfg.Lookup(c.PriorAddr); declared {
			return fmt.Errorf("%s takes over the lockfile's entry of %s, which is declared", c.Addr, c.PriorAddr)
		}
	}
	if draftKeeps {
		// Unless a file it is made from changed: that changes its
		// inputs, and a draft run makes it again (a local edit of a
		// checked-in file records no draft).
		if f := changedFile(prior.Inputs, disk); f != "" {
			return fmt.Errorf("%s is kept unchanged, but the file it is made from, %s, changed: the plan would replace it", c.Addr, f)
		}
		return nil
	}
	why := mustRender(c, img, provider)
	if c.Action == planner.Move && c.Path == prior.Path && c.PriorAddr == c.Addr {
		return fmt.Errorf("%s is moved, but neither its path nor its address changed", c.Addr)
	}
	switch c.Action {
	case planner.NoOp, planner.Move:
		if why != "" {
			return fmt.Errorf("%s is kept unchanged, but %s: the plan would replace it", c.Addr, why)
		}
		if c.Action == planner.NoOp && c.Path != prior.Path {
			return fmt.Errorf("%s is kept unchanged, but its path changed from %s to %s", c.Addr, prior.Path, c.Path)
		}
		if f := changedFile(prior.Inputs, disk); f != "" {
			return fmt.Errorf("%s is kept unchanged, but the file it is made from, %s, changed: the plan would replace it", c.Addr, f)
		}
	case planner.Replace:
		if why != "" || requested(c.Addr, replace) || heldMismatch(prior) {
			return nil
		}
		if disk == nil || disk.Holds(*prior) {
			return fmt.Errorf("%s is replaced, but nothing asks for it: its inputs are unchanged, it was not named by -replace, and its file %s holds the recorded image", c.Addr, prior.Path)
		}
	}
	return nil
}

// changedFile is the checked-in file (source or mask) of a derived image
// with the inputs in that no longer holds the bytes they record, "" when
// none (or disk is nil): the plan file's inputs say what the plan was made
// with, which an edit can make the recorded ones, so the disk is asked.
func changedFile(in state.Inputs, disk Disk) string {
	if disk == nil || !in.Derived() {
		return ""
	}
	if _, image := in.SourceAddr(); !image && !disk.HoldsFile(in.Source, in.SourceSHA256) {
		return in.Source
	}
	if in.Mask != "" && !disk.HoldsFile(in.Mask, in.MaskSHA256) {
		return in.Mask
	}
	return ""
}

// mustRender says why the configuration and the lockfile alone make the
// planner render c again ("its prompt changed"), or "" when they do not:
// then only -replace or a drifted file does.
func mustRender(c *planner.Change, img *config.Image, provider string) string {
	prior := c.Prior
	old, in := prior.Inputs, c.Inputs
	if img.Seed == 0 && c.Action == planner.Replace {
		// An undeclared seed is the recorded one unless -replace chose
		// another: a new one alone explains nothing.
		in.Seed = old.Seed
	}
	if why := inputsChange(old, in, c.AfterApply); why != "" {
		return why
	}
	if prior.Provider == providers.Draft && provider == providers.Imagine {
		return "it was rendered by draft"
	}
	from, _ := media.OfPath(prior.Path)
	to, _ := media.OfPath(img.Path)
	if from != to && from != "" && to != "" {
		return "its format changes"
	}
	return ""
}

// heldMismatch reports whether the lockfile records bytes of another
// format than prior's path says, which the planner replaces when the
// file on disk holds them.
func heldMismatch(prior *state.Entry) bool {
	mt, _ := media.OfPath(prior.Path)
	return mt != "" && prior.MediaType != "" && prior.MediaType != mt
}

// inputsChanged reports whether c's inputs differ from its prior entry's
// as the planner compares them.
func inputsChanged(c *planner.Change) bool {
	return inputsChange(c.Prior.Inputs, c.Inputs, c.AfterApply) != ""
}

// inputsChange says how inputs in changed from old, as the planner's
// reasons do ("its prompt changed"), or "".
func inputsChange(old, in state.Inputs, afterApply string) string {
	switch {
	case old.Prompt != in.Prompt:
		return "its prompt changed"
	case old.Style != in.Style:
		return "its style changed"
	case old.AspectRatio != in.AspectRatio:
		return "its aspect_ratio changed"
	case old.Seed != in.Seed:
		return "its seed changed"
	case old.Takes() != in.Takes():
		return "its candidates changed"
	}
	return derivedChange(old, in, afterApply)
}

// derivedChange says how a derived image's inputs changed from old, as
// the planner's reasons do, or "".
func derivedChange(old, in state.Inputs, afterApply string) string {
	sameBytes := old.SourceSHA256 != "" && old.SourceSHA256 == in.SourceSHA256
	switch {
	case afterApply != "" || (in.Derived() && in.SourceSHA256 == ""):
		return "the image it is made from is rendered in this plan"
	case old.Operation != in.Operation:
		return "its operation changed"
	case old.Source != in.Source && !sameBytes:
		return "its from changed"
	case old.SourceSHA256 != in.SourceSHA256:
		return "the image it is made from changed"
	case old.Mask != in.Mask || old.MaskSHA256 != in.MaskSHA256:
		return "its mask changed"
	case old.Resize != in.Resize || old.Crop != in.Crop || old.Quality != in.Quality:
		return "its resize, crop or quality changed"
	case old.Transparent != in.Transparent:
		return "its transparent changed"
	}
	return ""
}

// checkSource refuses a change of an image made from another whose
// source hash is not what the plan makes of that image: the recorded
// bytes of a source kept or moved (or left out of the plan), or none yet
// for a source this plan renders.
func checkSource(c *planner.Change, byAddr map[addrs.Addr]*planner.Change, lock *state.Lock, disk Disk) error {
	src, ok := c.Inputs.SourceAddr()
	if !ok {
		return nil
	}
	want, rendered := "", false
	if sc := byAddr[src]; sc != nil {
		switch sc.Action {
		case planner.Create, planner.Replace:
			rendered = true
		case planner.Delete:
			return fmt.Errorf("%s is made from %s, which the plan deletes", c.Addr, src)
		default:
			if sc.Prior != nil {
				want = sc.Prior.SHA256
			}
		}
	} else if e, recorded := lock.Images[src]; recorded {
		want = e.SHA256
	}
	switch {
	case rendered && c.Inputs.SourceSHA256 == "":
		return nil
	case rendered:
		// A source restored from the content cache or the image store
		// has known bytes (a candidates image's, the take placed at its
		// path): those planning gives, else the image made from it is
		// not the render restored, and would be paid for while the plan
		// says it is free.
		sc := byAddr[src]
		if !sc.FromCache && !sc.FromStore {
			return fmt.Errorf("%s expects %s as it is recorded, but the plan renders %s", c.Addr, src, src)
		}
		want, known := "", false
		if r, ok := disk.(Restorer); ok {
			want, known = r.RestoredSHA256(sc)
		} else if sc.FromStore && sc.Inputs.Candidates < 2 {
			// Without the lookups, the store's object the plan names.
			want, known = sc.StoreSHA256, true
		}
		if !known || c.Inputs.SourceSHA256 != want {
			return fmt.Errorf("%s expects other bytes of %s than the plan restores from the content cache or the image store", c.Addr, src)
		}
		return nil
	case c.Inputs.SourceSHA256 == "":
		return fmt.Errorf("%s waits for %s to be rendered, but the plan does not render it", c.Addr, src)
	case c.Inputs.SourceSHA256 != want:
		return fmt.Errorf("%s expects other bytes of %s than the lockfile records", c.Addr, src)
	}
	return nil
}

// requested reports whether -replace named addr (or its block).
func requested(addr addrs.Addr, replace []addrs.Addr) bool {
	return slices.ContainsFunc(replace, func(a addrs.Addr) bool {
		return a == addr || (a.Kind == addrs.NoKey && a.Name == addr.Name)
	})
}

// Restorer is what CheckAgainst asks of the content cache and the image
// store, when the Disk given has it: the hash of the bytes apply places at
// the path of c, a Create or Replace restored with no request, as
// planning gives it to an image made from c (planner.RestoredSHA256).
type Restorer interface {
	RestoredSHA256(c *planner.Change) (string, bool)
}

// restores is a Disk with the lookups of the content cache and the image
// store a plan was made with.
type restores struct {
	Disk
	in planner.Input
}

// WithRestores is disk (nil: none) with the content cache's and the image
// store's lookups of in (Provider, Cached, CachedSHA256, Stored), for
// CheckAgainst to check what a saved plan says of a restored source.
func WithRestores(disk Disk, in planner.Input) Disk { return restores{Disk: disk, in: in} }

// Holds and HoldsFile ask disk; without one, as a nil Disk, every file
// is taken to hold what the plan says.
func (r restores) Holds(e state.Entry) bool { return r.Disk == nil || r.Disk.Holds(e) }

func (r restores) HoldsFile(path, sha256hex string) bool {
	return r.Disk == nil || r.Disk.HoldsFile(path, sha256hex)
}

// RestoredSHA256 is planner.RestoredSHA256 with r's lookups; of a source
// the plan says is restored from the image store by the store's record of
// its inputs, the record must name the object the plan names. A put-back
// by hash (the object the plan names is the one its entry records, for
// the same inputs and provider) is not
// compared with the record: apply fetches exactly that object, and the
// record names the first render anyone pushed, an equally valid one.
func (r restores) RestoredSHA256(c *planner.Change) (string, bool) {
	putBack := c.Prior != nil && c.StoreSHA256 != "" && c.StoreSHA256 == c.Prior.SHA256 &&
		c.Prior.Inputs == c.Inputs && c.Prior.Provider == r.in.Provider
	if c.FromStore && c.Inputs.Candidates < 2 && r.in.Stored != nil && !putBack {
		if sum, ok := r.in.Stored(c.Inputs.Digest(), r.in.Provider); !ok || sum != c.StoreSHA256 {
			return "", false
		}
	}
	return planner.RestoredSHA256(r.in, c)
}
