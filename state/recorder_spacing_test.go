package state

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pixform/pixform/addrs"
)

// fakeWriteClock is a Recorder's clock for tests: every lockfile write
// costs cost, and a sleep passes at once, counted.
type fakeWriteClock struct {
	mu     sync.Mutex
	t      time.Time
	cost   time.Duration
	sleeps []time.Duration
}

func (c *fakeWriteClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeWriteClock) sleep(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.t = c.t.Add(d)
}

func (c *fakeWriteClock) write(path string, data []byte) error {
	c.mu.Lock()
	c.t = c.t.Add(c.cost)
	c.mu.Unlock()
	return WriteFileAtomic(path, data)
}

func (c *fakeWriteClock) install(r *Recorder) {
	r.mu.Lock()
	r.now, r.sleep = c.now, c.sleep
	r.mu.Unlock()
}

// TestRecorderSequentialCallerDoesNotWait: a caller that records one
// change at a time (Store.Move does, one move after another) has each
// written at once: spacing writes gathers nothing for it.
func TestRecorderSequentialCallerDoesNotWait(t *testing.T) {
	c := &fakeWriteClock{t: time.Unix(1e9, 0), cost: 40 * time.Millisecond}
	p := filepath.Join(t.TempDir(), LockFileName)
	r := newRecorder(p, lockN(10), c.write)
	c.install(r)
	const n = 5
	for i := range n {
		if err := r.Set(addrs.MustParse(fmt.Sprintf("image.seq[%d]", i)), entryN(100+i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if len(c.sleeps) != 0 {
		t.Errorf("sequential changes waited %v before their writes, want no wait", c.sleeps)
	}
	if r.writes != n {
		t.Errorf("%d writes, want %d (one per change)", r.writes, n)
	}
	if got := len(readLockT(t, p).Images); got != 10+n {
		t.Errorf("%d entries on disk, want %d", got, 10+n)
	}
}

// TestRecorderConcurrentCallersWait: changes that arrive while a write is
// in progress wait the spacing, then go in one write; so does a change
// that follows a write of many, whose callers may all be coming back.
func TestRecorderConcurrentCallersWait(t *testing.T) {
	c := &fakeWriteClock{t: time.Unix(1e9, 0), cost: 40 * time.Millisecond}
	p := filepath.Join(t.TempDir(), LockFileName)
	entered := make(chan struct{})
	release := make(chan struct{})
	first := true
	r := newRecorder(p, lockN(10), func(path string, data []byte) error {
		if first {
			first = false
			close(entered)
			<-release
		}
		return c.write(path, data)
	})
	c.install(r)
	const waiting = 20
	wg := queueBehindWrite(t, r, entered, waiting)
	close(release)
	wg.Wait()
	// The group's callers may be back at once: the change after a write
	// of many waits too.
	if err := r.Set(addrs.MustParse("image.after"), entryN(99)); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if len(c.sleeps) != 2 || c.sleeps[0] <= 0 || c.sleeps[1] <= 0 {
		t.Errorf("waits before writes: %v, want two (the group's, the next change's)", c.sleeps)
	}
	if r.writes != 3 {
		t.Errorf("%d writes, want 3 (one held, one for the group, the next change)", r.writes)
	}
}
