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

// Absent reports whether the cache has no directory (or one it would
// not list: reached through a link, or unreadable), without listing it:
// such a cache is Empty. One with a directory may still be empty.
func (c *Cache) Absent() bool {
	_, ok, err := workSubDir(c.root, cacheDirName)
	return err != nil || !ok
}
