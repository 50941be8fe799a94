package executor

import (
	"time"

	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/state"
)

// How says how a change was carried out, for Hooks.Completed.
type How int

// Ways a change completes.
const (
	// Generated: rendered by a request to the provider.
	Generated How = iota
	// Restored: copied from the local content cache, no request.
	Restored
	// Moved: the existing file moved to a new path or address, no request.
	Moved
	// Deleted: the entry and its file were removed.
	Deleted
	// KeptFile: the entry was removed, and its file kept because it no
	// longer held the recorded image (the user changed it).
	KeptFile
)

func (h How) String() string {
	switch h {
	case Generated:
		return "generated"
	case Restored:
		return "restored"
	case Moved:
		return "moved"
	case Deleted:
		return "deleted"
	case KeptFile:
		return "kept"
	}
	return "unknown"
}

// Hooks receives progress events from Apply, for progress displays and
// apply -json. Apply calls hooks from several goroutines at once, so an
// implementation must be safe for concurrent use; a hook must not block for
// long, because the image that raised the event waits for it. Embed NilHooks
// to implement only some events.
type Hooks interface {
	// Started is called before each request attempt for c; attempt counts
	// from 1 and includes retries after throttling.
	Started(c *planner.Change, attempt int)
	// Retrying is called when a transient failure of attempt will be
	// retried after wait.
	Retrying(c *planner.Change, attempt int, err error, wait time.Duration)
	// Throttled is called when the API rate-limited a request for c, which
	// is retried after t.Wait.
	Throttled(c *planner.Change, t Throttle)
	// Completed is called once c is on disk and recorded in the lockfile
	// as e (for a delete, e is the removed entry, and how is Deleted or
	// KeptFile).
	Completed(c *planner.Change, e state.Entry, how How)
	// Failed is called once when c fails for good.
	Failed(c *planner.Change, err error)
	// Warn reports a problem that did not fail c, such as a content cache
	// write error or a file kept because the user changed it.
	Warn(c *planner.Change, msg string)
}

// Throttle is how a rate-limited request waits, for Hooks.Throttled.
type Throttle struct {
	// Wait is how long the request waits before it is sent again.
	Wait time.Duration
	// Asked is the server's Retry-After, zero when it sent none. When it
	// is longer than Wait, the wait was cut at the moment the run gives up.
	Asked time.Duration
	// GiveUp is how long the run may be throttled with no success before
	// it stops.
	GiveUp time.Duration
	// Limit is the run's concurrency limit now.
	Limit int
	// Rate is the pace of new requests, in requests a second, when the
	// server was found to limit the rate; zero when it limits only how
	// many are in flight (Limit).
	Rate float64
	// Learning is set when nothing came back before the 429: the run
	// holds one request in flight (Limit 1) until one does, not knowing
	// yet whether the server limits the rate or the requests in flight.
	Learning bool
}

// Capped reports whether the server asked for a longer wait than the run
// waits.
func (t Throttle) Capped() bool { return t.Asked > t.Wait }

// NilHooks ignores every event. Embed it in a Hooks implementation to
// override only some methods.
type NilHooks struct{}

var _ Hooks = NilHooks{}

// Started does nothing.
func (NilHooks) Started(*planner.Change, int) {}

// Retrying does nothing.
func (NilHooks) Retrying(*planner.Change, int, error, time.Duration) {}

// Throttled does nothing.
func (NilHooks) Throttled(*planner.Change, Throttle) {}

// Completed does nothing.
func (NilHooks) Completed(*planner.Change, state.Entry, How) {}

// Failed does nothing.
func (NilHooks) Failed(*planner.Change, error) {}

// Warn does nothing.
func (NilHooks) Warn(*planner.Change, string) {}
