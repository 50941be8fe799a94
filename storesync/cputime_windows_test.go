package storesync

import "syscall"

// cpuTime is the process's user and kernel CPU time so far, in ns.
func cpuTime() int64 {
	var creation, exit, kernel, user syscall.Filetime
	h, err := syscall.GetCurrentProcess()
	if err != nil {
		return 0
	}
	if err := syscall.GetProcessTimes(h, &creation, &exit, &kernel, &user); err != nil {
		return 0
	}
	return ticks(kernel) + ticks(user)
}

// ticks is a Filetime that holds a duration, in ns (Filetime.Nanoseconds
// takes it for a date).
func ticks(ft syscall.Filetime) int64 {
	return (int64(ft.HighDateTime)<<32 | int64(ft.LowDateTime)) * 100
}
