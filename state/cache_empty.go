package state

// Empty reports whether the cache holds no render at all (a missing or
// unreadable directory holds none), so that a caller can skip working out
// the keys it would look up.
func (c *Cache) Empty() bool {
	c.load()
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries) == 0
}
