//go:build !linux && !darwin && !freebsd && !netbsd && !windows

package safepath

import "syscall"

// ctimeOf is the inode's change time where the system names it Ctim.
func ctimeOf(st *syscall.Stat_t) int64 { return st.Ctim.Nano() }
