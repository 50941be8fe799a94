package planfile

import (
	"fmt"

	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/state"
)

// CheckAgainst verifies that every change of a saved plan agrees with
// the configuration and lockfile it claims to come from, so that a damaged
// or edited plan file cannot write anywhere the configuration does not say.
func CheckAgainst(p *planner.Plan, cfg *config.Config, lock *state.Lock) error {
	for _, c := range p.Changes {
		if c.Action == planner.NoOp {
			continue // does nothing
		}
		if c.Prior != nil {
			got, ok := lock.Images[c.PriorAddr]
			if !ok || !got.Equal(*c.Prior) {
				return fmt.Errorf("%s: the recorded prior entry %s is not in the lockfile", c.Addr, c.PriorAddr)
			}
		}
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
		if img.Path != c.Path || !planner.InputsMatch(&img, c.Inputs) {
			return fmt.Errorf("%s differs from its declaration", c.Addr)
		}
		if ep := planner.Endpoint(c.Inputs); c.Requests > 0 && ep != planner.EndpointTextToImage {
			price, known := cfg.Provider.Price(ep)
			if c.CreditsKnown != known || c.Credits != price {
				return fmt.Errorf("%s: its credits do not match the price the configuration sets", c.Addr)
			}
		}
	}
	return nil
}
