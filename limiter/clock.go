package limiter

import "time"

// Clock is the time source of the limiter (and of the executor's waits);
// inject a fake in tests.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }

// After waits for d to elapse and then sends the current time.
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
