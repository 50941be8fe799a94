package state

import "github.com/pixform/pixform/internal/safepath"

// noted reports whether the note names path.
func (l *Leftovers) noted(path string) bool {
	if l == nil {
		return false
	}
	_, ok := l.placing[safepath.Key(path)]
	return ok
}

// notedPaths returns the paths (safepath.Key) that the placing note of
// an earlier apply in dir names (none for an unreadable or foreign note).
func notedPaths(dir string) map[string]bool {
	note, _ := readPlacing(dir)
	l := note.leftovers("", nil)
	if l == nil {
		return nil
	}
	out := make(map[string]bool, len(l.placing))
	for k := range l.placing {
		out[k] = true
	}
	return out
}

// PendingRemovals returns the noted removals that FinishRemovals would
// carry out now against lock. It changes nothing.
func PendingRemovals(dir string, lock *Lock) ([]Removal, error) {
	todo, _, err := sortRemovals(dir, lock)
	return todo, err
}
