package objstore

import (
	"fmt"
	"sync"
)

// groupSync makes a file:// store's writes durable in batches: wait
// returns once a flush of the store's file system that began after the
// call has ended, and a single flush serves every caller waiting for one
// (a group commit). Writes to the store in flight at once share it,
// instead of paying two fsyncs each.
//
// A flush's failure is sticky: syncfs(2) reports a write-back error once
// per open description of the store's directory, so the flush after a
// failed one may succeed though the bytes written before it never reached
// the disk. Every wait after a failure fails.
type groupSync struct {
	dir   string
	flush func(dir string) error // syncFS on the store's directory, or a test's

	mu       sync.Mutex
	cond     *sync.Cond
	started  uint64 // flushes begun
	finished uint64 // the last flush ended (flushes run one at a time)
	running  bool
	waiters  int   // callers in wait
	err      error // the first flush's failure, for good
}

func newGroupSync(dir string, flush func(string) error) *groupSync {
	g := &groupSync{dir: dir, flush: flush}
	g.cond = sync.NewCond(&g.mu)
	return g
}

// wait returns once every write to the store's file system made before
// the call is durable, or the error of a flush that failed since the
// store was opened.
func (g *groupSync) wait() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.waiters++
	defer func() { g.waiters-- }()
	// A flush already running may have begun before the caller's writes:
	// the caller needs the next one.
	target := g.started + 1
	for g.err == nil && g.finished < target {
		if g.running {
			g.cond.Wait()
			continue
		}
		g.running = true
		g.started++
		n := g.started
		g.mu.Unlock()
		err := g.flush(g.dir)
		g.mu.Lock()
		g.running = false
		g.finished = n
		if err != nil && g.err == nil {
			g.err = fmt.Errorf("a flush of the store's file system failed, so what was written to the store since it was opened may not be on disk (%w); nothing more is stored through this run: check the disk and the file system, then run the command again", err)
		}
		g.cond.Broadcast()
	}
	return g.err
}
