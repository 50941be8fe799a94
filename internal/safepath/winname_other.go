//go:build !windows

package safepath

// winNames is false here: a colon, a trailing dot or NUL.png are plain
// names on this system, and Check refuses them only on Windows.
const winNames = false
