package planner

import (
	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/state"
)

// Action is what apply does to one image.
type Action int

// Actions, in the order a plan lists their counts.
const (
	NoOp Action = iota
	Create
	Replace
	Move
	Delete
)

func (a Action) String() string {
	switch a {
	case Create:
		return "create"
	case Replace:
		return "replace"
	case Move:
		return "move"
	case Delete:
		return "delete"
	}
	return "noop"
}

// Change is the plan for one image. Reasons are for the UI only; nothing
// branches on them.
type Change struct {
	Addr   addrs.Addr
	Action Action
	// Reasons say, for people, why the action was chosen.
	Reasons []string

	// Inputs are the desired inputs, with the seed resolved (from the
	// configuration, the lockfile, or chosen now). Zero for Delete.
	Inputs state.Inputs
	// SeedChosen is true when the plan picked the seed because neither the
	// configuration nor the lockfile had one.
	SeedChosen bool
	// Path is where the image will be (for Delete: where it was).
	Path string

	// Prior is the lockfile entry this change starts from: the entry at
	// Addr, or for an address move the entry at PriorAddr. Nil for Create.
	Prior *state.Entry
	// PriorAddr is the lockfile address of Prior (differs from Addr
	// for an address move).
	PriorAddr addrs.Addr

	// AfterApply, when not empty, says that the inputs are known only
	// after apply, and why ("image.hero is replaced"): the image is made
	// from another that this plan renders, so the hash of its source
	// (Inputs.SourceSHA256, "" until then) is that render's.
	AfterApply string

	// FromCache is true when a Create or Replace is restored from the local
	// content cache instead of being requested.
	FromCache bool
	// Forced is true when a Create or Replace must be rendered anew,
	// never restored from the content cache or the image store:
	// -replace names it, or the run is -no-cache. Apply restores any
	// other render the plan requests from the content cache when the
	// cache holds it by then (a saved plan applied again after a commit
	// that was refused: the first apply kept the paid image there).
	Forced bool
	// FromStore is true when a Create or Replace is restored from the
	// image store instead of being requested: StoreSHA256 names the
	// object (sha256/<hex>) that apply downloads. The local content
	// cache comes first: FromCache and FromStore are never both true.
	FromStore   bool
	StoreSHA256 string
	// StoreTakes are, of a candidates image restored from the image
	// store, the sha256 of each take (by position) that apply restores by
	// the object its entry records ("" for a take restored from the
	// local cache or by the store's record of its inputs), as the plan
	// decided (RecordedTakeInStore); nil when none is. Apply fetches
	// exactly those objects, whatever its checkout's note of the store
	// knows, and fails the image when one is gone. A plan file keeps it.
	StoreTakes []string
	// Picked is, for a candidates Create or Replace that places at Path
	// a take someone picked (PlacedTake: the entry's pick, or the one the
	// content cache remembers for these inputs), that take's 1-based
	// number; 0 when apply places the first take, as by default. A saved
	// plan does not carry it: PickedTake falls back on the entry's pick.
	Picked int
	// KeepsApproval is true when a Replace puts back at Path, with no
	// request, the very bytes its entry's approval names (its file was
	// edited or deleted): apply keeps the approval. A saved plan does
	// not carry it (apply judges the bytes it restores itself).
	KeepsApproval bool
	// PutBack is true when a Replace only puts back the bytes its entry
	// records: its file alone is missing or changed on disk (the same
	// address, path, inputs and provider), and the content cache or the
	// image store restores, with no request, the very bytes Prior
	// records (for a candidates image, every take's), which neither of
	// them records other bytes for. Such an image is judged by its
	// entry, as an unchanged one is: plan -check passes it on a clone
	// without outputs when the store holds it, and its pick and approval
	// are the entry's. Set by Diff for the plan made now; a plan file
	// does not keep it (apply does not read it).
	PutBack bool
	// StoreLacks says the image store lacks recorded bytes this change
	// would put back (the image's, or a take's): pushed from a clone that
	// has them, they would be put back with no request. Its reason says
	// so (storeLacksRecorded). Set by Diff for the plan made now.
	StoreLacks bool
	// Occupied is true when Path holds a file that no lockfile entry
	// records there and that does not hold the bytes the change writes
	// (or those bytes are not known before apply): someone's file, which
	// apply refuses to overwrite, failing the change with what to do.
	Occupied bool
	// Missing is true when Prior's file is not on disk.
	Missing bool
	// Upload is true when a NoOp or Move keeps a recorded image that the
	// image store lacks: apply uploads it, with no request.
	Upload bool
	// Requests is the number of API requests the change costs (0 or 1).
	Requests int
	// Credits is the vendor's price of those requests; CreditsKnown is false
	// for an unpriced style.
	Credits      int
	CreditsKnown bool
}

// Summary counts a plan's changes and its cost.
type Summary struct {
	Create, Replace, Move, Delete, NoOp int
	Requests                            int
	Credits                             int
	// UnpricedRequests counts requests of styles the vendor does not price.
	UnpricedRequests int
	// FromStore counts the creates and replaces restored from the image
	// store, Upload the recorded images it lacks: work without requests,
	// counted apart from the paid work.
	FromStore, Upload int
	// Refused counts the changes apply refuses before any request
	// (Occupied), and Blocked the creates and replaces made from one of
	// those (through any chain of images), which apply does not make:
	// counted with their action, their cost left out of Requests and
	// Credits.
	Refused, Blocked int
}

// Plan is the full set of changes, sorted by address. NoOp changes are
// included so callers can count and show them.
type Plan struct {
	// Provider is the provider that will render: "imagine" or "draft".
	Provider string
	Changes  []Change
	Summary  Summary
}

// HasUploads reports whether the image store lacks recorded images that
// the plan keeps, which apply would upload.
func (p *Plan) HasUploads() bool { return p.Summary.Upload > 0 }

// HasChanges reports whether applying the plan would do anything.
func (p *Plan) HasChanges() bool {
	s := p.Summary
	return s.Create+s.Replace+s.Move+s.Delete > 0
}

// PickedTake returns the take of c, a candidates Create or Replace, that
// apply places at Path because someone picked it: its 1-based number and
// seed. ok is false when apply places the first take, as by default. A
// change read from a saved plan, which does not carry Picked, is judged
// by its entry's pick alone.
func (c *Change) PickedTake() (n int, seed int64, ok bool) {
	if c.Inputs.Candidates <= 1 || (c.Action != Create && c.Action != Replace) {
		return 0, 0, false
	}
	seeds := c.Inputs.TakeSeeds()
	n = c.Picked
	if n == 0 {
		var picked bool
		if n, picked = PlacedTake(c, seeds, nil); !picked {
			return 0, 0, false
		}
	}
	if n < 1 || n > len(seeds) {
		return 0, 0, false
	}
	return n, seeds[n-1], true
}
