package planner

import (
	"fmt"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/state"
)

// reviewCleared says what a replace of prior with inputs in clears of a
// person's review, as a reason: the approval unless keepApproval (apply
// puts back the very bytes approved, keepsApproval), and the pick unless
// apply places the picked take again (PlacedTake: the same inputs and
// takes), or the image drops its candidates and keeps the picked take's
// seed, which makes the picked take the image.
func reviewCleared(prior *state.Entry, in state.Inputs, keepApproval bool) []string {
	pick := pickCleared(prior, in)
	a := prior.Approved
	if keepApproval {
		a = nil
	}
	switch {
	case pick && a != nil:
		return []string{fmt.Sprintf("the pick (take %d) and the approval by %s are cleared", prior.Picked, a.By)}
	case pick:
		return []string{fmt.Sprintf("the pick (take %d) is cleared", prior.Picked)}
	case a != nil:
		return []string{"the approval by " + a.By + " is cleared"}
	}
	return nil
}

// pickCleared reports whether a replace of prior with inputs in clears
// prior's pick (reviewCleared).
func pickCleared(prior *state.Entry, in state.Inputs) bool {
	if prior.Picked <= 0 || prior.Picked > len(prior.Takes) {
		return false
	}
	kept := prior.Inputs == in && sameTakeSeeds(prior.Takes, in.TakeSeeds())
	pinned := in.Takes() <= 1 && in.Seed == prior.Takes[prior.Picked-1].Seed
	return !kept && !pinned
}

// keepsApproval reports whether c, a replace, keeps its entry's approval:
// it is restored with no request, and the bytes apply puts at its path
// are known to be the very bytes approved (the recorded ones, put back
// after the file was edited or deleted). Any other bytes clear it, and
// so does a render, whose bytes the plan cannot know. So does a replace
// that clears the pick, or that places takes nobody picked, even of the
// bytes approved: an approval is of a single image or of a pick
// (pixform approve refuses takes nobody picked).
func (p *planning) keepsApproval(c *Change) bool {
	a := c.Prior.Approved
	if a == nil || pickCleared(c.Prior, c.Inputs) {
		return false
	}
	if !c.FromCache && !c.FromStore {
		// A local edit made again from its recorded inputs makes the
		// bytes recorded (apply checks them: RemakesRecorded).
		return RemakesRecorded(c) && c.Prior.SHA256 == a.SHA256
	}
	if c.Inputs.Takes() > 1 {
		if _, picked := p.placedTake(c, c.Inputs.TakeSeeds()); !picked {
			return false
		}
	}
	sum, ok := p.restoredSHA256(c)
	return ok && sum == a.SHA256
}

// RemakesRecorded reports whether c makes its image again as a local
// edit (no request) of the very inputs its entry records, a single
// image: the bytes it makes are the recorded ones.
func RemakesRecorded(c *Change) bool {
	return c.Prior != nil && c.Inputs.Derived() && Endpoint(c.Inputs) == EndpointLocal &&
		c.Inputs.Takes() <= 1 && c.Prior.Inputs == c.Inputs
}

// Awaiting is a declared image that awaits a person: a pick among its
// takes, or an approval of its bytes.
type Awaiting struct {
	Addr addrs.Addr
	Path string
	// Pick says the image has Takes takes and nobody picked one; else it
	// awaits an approval.
	Pick  bool
	Takes int
	// Pending says the plan renders the image first (new bytes, which
	// nobody can have approved yet).
	Pending bool
}

// AwaitingReview lists, in address order, the declared images of p that
// will await a pick or an approval once p is applied: each image whose
// entry stays as it is (unchanged, moved, or only put back: PutBack)
// and has takes but no pick, or no approval of its bytes; each image
// that keeps its approval (KeepsApproval) but will have takes nobody
// picked; and each image the plan renders.
func AwaitingReview(p *Plan) []Awaiting {
	var out []Awaiting
	for i := range p.Changes {
		c := &p.Changes[i]
		a := Awaiting{Addr: c.Addr, Path: c.Path, Takes: c.Inputs.Takes()}
		switch {
		case c.Action == Delete:
			continue
		case (c.Action == Create || c.Action == Replace) && !c.PutBack && !c.KeepsApproval:
			a.Pending, a.Pick = true, a.Takes > 1
		case c.Prior == nil:
			continue
		case c.KeepsApproval && !c.PutBack:
			// The approved bytes are put back under other inputs: the
			// entry apply records keeps the approval, and its takes,
			// if any, need a pick.
			if a.Takes <= 1 || c.Picked > 0 {
				continue
			}
			a.Pick = true
		default:
			// The entry stays, put back or not: its own review, the
			// pick included (an approval of takes nobody picked is
			// none).
			e := c.Prior
			switch {
			case e.AwaitsPick():
				a.Pick, a.Takes = true, len(e.Takes)
			case e.Approved == nil || e.Approved.SHA256 != e.SHA256:
			default:
				continue
			}
		}
		out = append(out, a)
	}
	return out
}

// UsesReview reports whether the images of p use candidates or approvals
// at all: a plan of a project that does neither has nothing to review.
func UsesReview(p *Plan) bool {
	for i := range p.Changes {
		c := &p.Changes[i]
		if c.Inputs.Candidates > 1 || (c.Prior != nil && (len(c.Prior.Takes) > 0 || c.Prior.Approved != nil)) {
			return true
		}
	}
	return false
}
