package safepath

import (
	"path"
	"runtime"
	"sync"
	"sync/atomic"
)

// Leaves is Leaf of each of ps through s (exists[i], errs[i] for ps[i];
// both as long as ps), made on up to GOMAXPROCS goroutines. Through a
// Stats, each path not yet looked at is one lstat, made where the
// system allows from a descriptor of its directory, opened once for a
// run of paths in the same directory (the kernel then walks one name,
// not the whole path), with the answer os.Lstat gives.
func (s *Stats) Leaves(root string, ps []string, exists []bool, errs []error) {
	if s == nil {
		for i, p := range ps {
			exists[i], errs[i] = s.Leaf(root, p)
		}
		return
	}
	// What s holds already is taken; the lstats not made yet are made in
	// batches, each batch's results kept under one lock.
	res := make([]lstatResult, len(ps))
	todo := make([]int, 0, len(ps))
	s.mu.Lock()
	for i, p := range ps {
		if r, ok := s.m[p]; ok {
			res[i] = r
		} else {
			todo = append(todo, i)
		}
	}
	if len(s.m) == 0 && len(todo) > 64 {
		s.m = make(map[string]lstatResult, len(todo))
	}
	s.mu.Unlock()
	const batch = 64
	workers := min((len(todo)+batch-1)/batch, runtime.GOMAXPROCS(0))
	var next atomic.Int64
	var wg sync.WaitGroup
	work := func() {
		var d dirLstat
		defer d.close()
		var got [batch]lstatResult
		for {
			start := int(next.Add(batch)) - batch
			if start >= len(todo) {
				return
			}
			end := min(start+batch, len(todo))
			for j := start; j < end; j++ {
				next := ""
				if j+1 < end {
					next = ps[todo[j+1]]
				}
				got[j-start] = d.lstat(s.root, ps[todo[j]], next)
			}
			s.mu.Lock()
			for j := start; j < end; j++ {
				i := todo[j]
				if r, ok := s.m[ps[i]]; ok { // the first lstat of a path stands
					res[i] = r
				} else {
					s.m[ps[i]] = got[j-start]
					res[i] = got[j-start]
				}
			}
			s.mu.Unlock()
		}
	}
	for range workers - 1 {
		wg.Go(work)
	}
	if workers > 0 {
		work()
	}
	wg.Wait()
	for i, p := range ps {
		exists[i], errs[i] = leafOf(s.root, p, res[i])
	}
}

// dirLstat makes lstats of paths under a root, keeping a descriptor of
// the directory of the last one while the paths stay in it.
type dirLstat struct {
	dir string
	fd  int // -1: none (lstatAt then takes the whole path)
	set bool
}

// lstat is the lstat of p, which next (if not "") is to follow: a
// descriptor of p's directory is opened only for a run of paths in it.
func (d *dirLstat) lstat(root, p, next string) lstatResult {
	dir, name := path.Split(p)
	if d.set && dir == d.dir {
		return lstatAt(d.fd, root, p, name)
	}
	d.close()
	if nextDir, _ := path.Split(next); next == "" || nextDir != dir {
		return lstatPath(root, p)
	}
	d.dir, d.fd, d.set = dir, openDir(root, p, dir), true
	return lstatAt(d.fd, root, p, name)
}

func (d *dirLstat) close() {
	if d.set && d.fd >= 0 {
		closeDir(d.fd)
	}
	d.set = false
}
