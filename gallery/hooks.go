package gallery

import (
	"fmt"
	"time"

	"github.com/pixform/pixform/executor"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/state"
)

// Hooks returns executor hooks that show an apply's progress on the
// server's cards: rendering when a request starts, throttled on a 429,
// failed with the reason, up to date with the new file when it lands.
func (s *Server) Hooks() executor.Hooks { return serverHooks{s} }

type serverHooks struct{ s *Server }

var _ executor.Hooks = serverHooks{}

func (h serverHooks) Started(c *planner.Change, attempt int) {
	reason := ""
	if attempt > 1 {
		reason = fmt.Sprintf("attempt %d", attempt)
	}
	h.s.Update(c.Addr.String(), func(cd *Card) { cd.setState(Rendering, reason) })
}

func (h serverHooks) Retrying(c *planner.Change, attempt int, err error, wait time.Duration) {
	h.s.Update(c.Addr.String(), func(cd *Card) {
		cd.setState(Rendering, fmt.Sprintf("attempt %d failed (%v); retrying in %s", attempt, err, wait.Round(100*time.Millisecond)))
	})
}

func (h serverHooks) Throttled(c *planner.Change, t executor.Throttle) {
	h.s.Update(c.Addr.String(), func(cd *Card) {
		cd.setState(Throttled, fmt.Sprintf("rate limited by the API; retrying in %s (%d in flight)", t.Wait.Round(100*time.Millisecond), t.Limit))
	})
}

func (h serverHooks) Completed(c *planner.Change, e state.Entry, how executor.How) {
	if how == executor.Deleted || how == executor.KeptFile {
		h.s.Remove(c.Addr.String())
		return
	}
	h.s.Update(c.Addr.String(), func(cd *Card) {
		cd.File = &e
		cd.Path = e.Path
		cd.Seed = AtPathSeed(&e)
		cd.setState(UpToDate, "")
	})
}

func (h serverHooks) Failed(c *planner.Change, err error) {
	h.s.Update(c.Addr.String(), func(cd *Card) { cd.setState(Failed, err.Error()) })
}

func (h serverHooks) Warn(c *planner.Change, msg string) {
	h.s.Update(c.Addr.String(), func(cd *Card) { cd.Reason = msg })
}
