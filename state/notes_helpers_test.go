package state

// Leftovers returns the paths (safepath.Key) that the placing note of an
// earlier apply in dir names (none for an unreadable or foreign note).
func Leftovers(dir string) map[string]bool {
	note, _ := readPlacing(dir)
	return note.leftovers()
}

// PendingRemovals returns the noted removals that FinishRemovals would
// carry out now against lock. It changes nothing.
func PendingRemovals(dir string, lock *Lock) ([]Removal, error) {
	todo, _, err := sortRemovals(dir, lock)
	return todo, err
}
