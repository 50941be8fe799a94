package objstore

import "sync"

// groupSync makes a file:// store's writes durable in batches: wait
// returns once a flush of the store's file system that began after the
// call has ended, and a single flush serves every caller waiting for one
// (a group commit). Writes to the store in flight at once share it,
// instead of paying two fsyncs each.
type groupSync struct {
	dir   string
	flush func(dir string) error // syncFS, or a test's

	mu       sync.Mutex
	cond     *sync.Cond
	started  uint64 // flushes begun
	finished uint64 // the last flush ended (flushes run one at a time)
	running  bool
	failed   map[uint64]error // flushes that failed, until their waiters read them
	waiting  map[uint64]int   // waiters by the flush they wait for
}

func newGroupSync(dir string, flush func(string) error) *groupSync {
	g := &groupSync{dir: dir, flush: flush, failed: map[uint64]error{}, waiting: map[uint64]int{}}
	g.cond = sync.NewCond(&g.mu)
	return g
}

// wait returns once every write to the store's file system made before
// the call is durable, or the error of the flush that should have made
// it so.
func (g *groupSync) wait() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	// A flush already running may have begun before the caller's writes:
	// the caller needs the next one.
	target := g.started + 1
	g.waiting[target]++
	for g.finished < target {
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
		if err != nil {
			g.failed[n] = err
		}
		g.cond.Broadcast()
	}
	err := g.failed[target]
	if g.waiting[target]--; g.waiting[target] == 0 {
		delete(g.waiting, target)
		delete(g.failed, target)
	}
	return err
}
