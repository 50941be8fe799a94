package executor

import (
	"context"

	"github.com/pixform/pixform/limiter"
)

// Limiter gates request starts: limiter.Adaptive, or a fake in tests.
// Acquire blocks until one more request may start (or ctx is done); every
// successful Acquire is matched by one Release of its Ticket, reporting
// how that request ended.
type Limiter interface {
	Acquire(ctx context.Context) (limiter.Ticket, error)
	Release(t limiter.Ticket, o limiter.Outcome)
	// Limit reports the current concurrency limit, for progress displays.
	Limit() int
	// Rate reports the pacing rate in requests a second when the server
	// was found to limit the rate; zero otherwise.
	Rate() float64
}

var _ Limiter = (*limiter.Adaptive)(nil)

// learning reports whether lim holds requests back after a 429 without
// knowing yet what kind of limit the server has (limiter.Adaptive's
// Learning); false for a Limiter that does not say.
func learning(lim Limiter) bool {
	l, ok := lim.(interface{ Learning() bool })
	return ok && l.Learning()
}
