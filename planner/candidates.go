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
	missing := 0
	for _, seed := range seeds {
		if forced || p.in.NoCache || p.in.Cached == nil || !p.in.Cached(c.Inputs.Take(seed).Digest(), p.in.Provider) {
			missing++
		}
	}
	cost := ""
	switch {
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
		if missing < len(seeds) {
			cost += fmt.Sprintf("; %d from the local cache", len(seeds)-missing)
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
