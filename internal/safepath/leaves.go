package safepath

import (
	"io/fs"
	"path"
	"runtime"
	"slices"
	"strings"
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
	s.leaving.Store(true)
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
	s.sizeFor(len(todo))
	s.mu.Unlock()
	byDir(ps, todo)
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
				res[todo[j]] = s.keep(ps[todo[j]], got[j-start])
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

// byDir orders todo, indices of ps, so that the paths of one directory
// come together, in the order they had: the lstats are then made in
// runs that one descriptor of the directory serves, even when ps
// alternates between directories (as the images of a configuration
// often do). Which of them is made first changes no answer.
func byDir(ps []string, todo []int) {
	cmp := func(a, b int) int { return strings.Compare(dirOf(ps[a]), dirOf(ps[b])) }
	if !slices.IsSortedFunc(todo, cmp) {
		slices.SortStableFunc(todo, cmp)
	}
}

// dirOf is p's directory with its trailing slash, as path.Split gives it.
func dirOf(p string) string { return p[:strings.LastIndexByte(p, '/')+1] }

// Warm makes the lstat of each of ps (slash, relative to s's root) not
// looked at yet, in order, as Leaves would, until Leaves is first called:
// it looks ahead at paths a run is likely to ask about (those the stat
// cache names) on a core that would otherwise wait. The first lstat of a
// path stands, whichever made it. The stat cache may name paths that no
// check has seen: Warm follows no symbolic link in any directory (each is
// opened from the root with none followed, nothing outside reached) and
// leaves alone a path it cannot reach so, as it does a path fs.ValidPath
// refuses or one Leaves would take by its path (too long to name): what
// it keeps is what Leaves would find, through directories that Leaves's
// callers check before they read a leaf. Where no directory can be opened
// so (not Linux), it looks only at the paths in the root itself.
func (s *Stats) Warm(ps []string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.sizeFor(len(ps))
	s.mu.Unlock()
	const batch = 64
	d := warmDir{root: openRoot(s.root)}
	defer d.close()
	var got [batch]lstatResult
	var at [batch]string
	for start := 0; start < len(ps) && !s.leaving.Load(); start += batch {
		n := 0
		for j := start; j < min(start+batch, len(ps)); j++ {
			p := ps[j]
			if !fs.ValidPath(p) || p == "." || !reachableAt(s.root, p) {
				continue
			}
			r, ok := d.lstat(s.root, p)
			if !ok {
				continue
			}
			got[n], at[n] = r, p
			n++
		}
		s.mu.Lock()
		for j := range n {
			if _, ok := s.m[at[j]]; !ok { // the first lstat of a path stands
				// Its own copy: a path cut from a whole file (the stat
				// cache's) would keep all of it for the run.
				s.m[strings.Clone(at[j])] = got[j]
			}
		}
		s.mu.Unlock()
	}
}

// warmDir makes Warm's lstats: each relative to a descriptor of the
// path's directory opened from the root with no symbolic link followed,
// kept while the paths stay in that directory.
type warmDir struct {
	root int    // the root's descriptor, or -1
	dir  string // the directory fd is of, with its trailing slash
	fd   int    // -1: that directory could not be opened so
	set  bool
}

// lstat is the lstat of p, a valid path, as Leaves would make it, with
// ok false where p's directory cannot be opened with no link followed.
func (d *warmDir) lstat(root, p string) (r lstatResult, ok bool) {
	dir, name := path.Split(p)
	if dir == "" {
		// In the root itself: an lstat follows no link at the name.
		return lstatAt(d.root, root, p, name), true
	}
	if !d.set || dir != d.dir {
		d.closeDir()
		d.dir, d.fd, d.set = dir, -1, true
		if d.root >= 0 {
			d.fd = openBeneath(d.root, dir[:len(dir)-1])
		}
	}
	if d.fd < 0 {
		return lstatResult{}, false
	}
	return lstatAt(d.fd, root, p, name), true
}

func (d *warmDir) closeDir() {
	if d.set && d.fd >= 0 {
		closeDir(d.fd)
	}
	d.set = false
}

func (d *warmDir) close() {
	d.closeDir()
	if d.root >= 0 {
		closeDir(d.root)
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
