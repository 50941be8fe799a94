package executor

import (
	"sync"
	"sync/atomic"
	"testing"
)

// workers runs every function, never more than limit at once, on at most
// limit goroutines however many functions it is given.
func TestWorkers(t *testing.T) {
	const limit, n = 3, 100
	w := newWorkers(limit)
	var running, most, ran atomic.Int32
	var mu sync.Mutex
	for range n {
		w.Go(func() {
			now := running.Add(1)
			mu.Lock()
			most.Store(max(most.Load(), now))
			mu.Unlock()
			ran.Add(1)
			running.Add(-1)
		})
	}
	w.Wait()
	if ran.Load() != n {
		t.Errorf("%d functions ran, want %d", ran.Load(), n)
	}
	if most.Load() > limit {
		t.Errorf("%d ran at once, want at most %d", most.Load(), limit)
	}
	if w.started > limit {
		t.Errorf("%d goroutines started for %d functions, want at most %d", w.started, n, limit)
	}
}
