package executor

import (
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/pixform/pixform/state"
)

// tempPrefix is the prefix of state.CreateTemp's temporary files: a
// temporary file for target T is named tempPrefix + base(T) + "-" + digits.
const tempPrefix = ".pixform-tmp-"

// removeStaleTemps removes the temporary files that an earlier run, killed
// in the middle of writing, left beside the plan's image paths (new and
// prior, of every change including no-ops) and beside the lockfile. Apply
// runs under the working directory's process lock, so no other pixform is
// writing them. Only names that state.CreateTemp makes for those exact
// targets are touched; errors are ignored, since a leftover is untidy but
// harmless (it is never at an output path).
func (r *run) removeStaleTemps() {
	bases := map[string]map[string]bool{} // slash dir → base names
	add := func(p string) {
		if p == "" {
			return
		}
		dir, base := path.Split(p)
		if bases[dir] == nil {
			bases[dir] = map[string]bool{}
		}
		bases[dir][base] = true
	}
	add(state.LockFileName)
	for i := range r.plan.Changes {
		c := &r.plan.Changes[i]
		add(c.Path)
		if c.Prior != nil {
			add(c.Prior.Path)
		}
	}
	for dir, names := range bases {
		abs := r.abs(dir)
		entries, err := os.ReadDir(abs)
		if err != nil {
			continue
		}
		for _, de := range entries {
			if de.IsDir() || !isTempOf(de.Name(), names) {
				continue
			}
			os.Remove(filepath.Join(abs, de.Name()))
		}
	}
}

// isTempOf reports whether name is a state.CreateTemp file of one of the
// base names.
func isTempOf(name string, bases map[string]bool) bool {
	rest, ok := strings.CutPrefix(name, tempPrefix)
	if !ok {
		return false
	}
	i := strings.LastIndexByte(rest, '-')
	if i < 0 || i == len(rest)-1 || !bases[rest[:i]] {
		return false
	}
	for _, ch := range rest[i+1:] {
		if ch < '0' || ch > '9' {
			return false
		}
	}
	return true
}
