package planner

import (
	"fmt"

	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

// candidatesOf is the Inputs.Candidates of img: its candidates when more
// than one, else 0 (one render records none).
func candidatesOf(img *config.Image) int {
	if img.Candidates > 1 {
		return img.Candidates
	}
	return 0
}

// priceTakes prices a candidates image: one request for each take that
// the content cache does not hold under its own inputs (every take when
// forced), and says so in a reason. The change is from the cache when
// every take is.
func (p *planning) priceTakes(c *Change, forced bool) {
	seeds := c.Inputs.TakeSeeds()
	missing, stored, sum := 0, 0, ""
	for _, seed := range seeds {
		d := c.Inputs.Take(seed).Digest()
		switch {
		case !forced && !p.in.NoCache && p.in.Cached != nil && p.in.Cached(d, p.in.Provider):
		case !forced && !p.in.NoCache && c.AfterApply == "" && p.in.Stored != nil && storedTake(p.in.Stored, d, p.in.Provider, &sum):
			stored++
		default:
			missing++
		}
	}
	cost := ""
	switch {
	case missing == 0 && stored > 0:
		// StoreSHA256 names the take the store holds that the entry
		// records at its path, else the first; the executor restores
		// each take under its own inputs.
		c.FromStore, c.StoreSHA256 = true, p.priorTakeStored(c, sum)
		c.Reasons = append(c.Reasons, fmt.Sprintf("%d candidates of %s, every take restored from the image store, no request", len(seeds), c.Addr))
		return
	case missing == 0:
		c.FromCache = true
		c.Reasons = append(c.Reasons, fmt.Sprintf("%d candidates of %s, every take restored from the local cache, no request", len(seeds), c.Addr))
		return
	case p.in.Provider != providers.Imagine:
		cost = "rendered offline"
	default:
		c.Requests = missing
		price, known := Price(c.Inputs.Style)
		c.CreditsKnown = known
		c.Credits = price * missing
		cost = plural(missing, "request") + ", " + plural(c.Credits, "credit")
		if !known {
			cost = plural(missing, "request") + ", unpriced"
		}
		if cached := len(seeds) - missing - stored; cached > 0 {
			cost += fmt.Sprintf("; %d from the local cache", cached)
		}
		if stored > 0 {
			cost += fmt.Sprintf("; %d from the image store", stored)
		}
	}
	c.Reasons = append(c.Reasons, fmt.Sprintf("%d candidates of %s (%s)", len(seeds), c.Addr, cost))
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// priorSeed is the seed that an image whose configuration leaves the seed
// out keeps from its entry: the recorded one, except that an image that
// drops its candidates keeps the take someone picked.
func priorSeed(prior state.Entry, want state.Inputs) int64 {
	if want.Candidates == 0 && prior.Picked > 0 && prior.Picked <= len(prior.Takes) {
		return prior.Takes[prior.Picked-1].Seed
	}
	return prior.Inputs.Seed
}

// PriorSeed is priorSeed, for a saved plan's check.
func PriorSeed(prior state.Entry, want state.Inputs) int64 { return priorSeed(prior, want) }

// storedTake reports whether the image store holds a render of the take
// with inputs digest d, and sets *first to its object if *first is "".
func storedTake(stored func(digest, provider string) (string, bool), d, provider string, first *string) bool {
	sum, ok := stored(d, provider)
	if ok && *first == "" {
		*first = sum
	}
	return ok
}

// priorTakeStored is the sum of the take c's entry records at its path
// when the store holds it under the same inputs, else first.
func (p *planning) priorTakeStored(c *Change, first string) string {
	pr := c.Prior
	if pr == nil || pr.Inputs != c.Inputs || p.in.Stored == nil {
		return first
	}
	for _, t := range pr.Takes {
		if t.SHA256 != pr.SHA256 {
			continue
		}
		if sum, ok := p.in.Stored(c.Inputs.Take(t.Seed).Digest(), p.in.Provider); ok && sum == pr.SHA256 {
			return sum
		}
	}
	return first
}

// takesToUpload reports whether the store lacks a take of prior.
func takesToUpload(prior state.Entry, inStore func(string) bool) bool {
	for _, t := range prior.Takes {
		if !inStore(t.SHA256) {
			return true
		}
	}
	return false
}
