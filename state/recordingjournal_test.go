package state

import (
	"context"
	"sync"

	"github.com/pixform/pixform/addrs"
)

// recordingJournal is a Journal that keeps the addresses it is asked to
// set.
type recordingJournal struct {
	mu       sync.Mutex
	recorded []addrs.Addr
}

func (j *recordingJournal) Record(_ context.Context, _ []addrs.Addr, sets map[addrs.Addr]Entry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for a := range sets {
		j.recorded = append(j.recorded, a)
	}
	return nil
}
func (j *recordingJournal) Snapshot() *Lock { return NewLock() }
func (j *recordingJournal) Close() error    { return nil }
