package objstore

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"syscall"
)

// pidSpace names the set of process IDs this process sees: this boot of
// the kernel (its boot_id) and this PID namespace. Two holders with one
// host name but another pidSpace (two containers, two machines named
// alike, a reboot) do not share process IDs. "" when it cannot be read.
func pidSpace() string {
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	ns, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		return ""
	}
	return string(bytes.TrimSpace(boot)) + " " + ns
}

// processEnded says why the process pid, which took a lock, has ended,
// or "" while it may still run: no process has that ID, or the process
// that has it now started at another clock tick since boot than
// startTicks, the holder's own (the ID was reused). The start is
// compared in ticks since boot, never on the wall clock: /proc/stat's
// btime is the current realtime clock less the uptime and moves when the
// clock is stepped (NTP, a resumed VM, date -s), which would make a
// running holder look like another process. Without startTicks (a lock
// of an older pixform) only a pid that no process has is known ended: a
// reused pid then reads as running, so the user waits or checks, rather
// than being told to force-unlock a lock whose holder may be alive.
func processEnded(pid int, startTicks uint64) string {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return "no process has pid " + strconv.Itoa(pid) + " now"
	}
	if startTicks == 0 {
		return ""
	}
	if now, ok := processStartTicks(pid); ok && now != startTicks {
		return "pid " + strconv.Itoa(pid) + " is now another process, started " + ticksSince(now, startTicks) + " the pixform that took the lock"
	}
	return ""
}

// ticksSince says how a start in clock ticks since boot stands to the
// holder's, in seconds.
func ticksSince(now, holder uint64) string {
	const userHZ = 100
	if now > holder {
		return strconv.FormatFloat(float64(now-holder)/userHZ, 'f', -1, 64) + " s after"
	}
	return strconv.FormatFloat(float64(holder-now)/userHZ, 'f', -1, 64) + " s before"
}

// readProc reads a file under /proc; tests replace it.
var readProc = os.ReadFile

// processStartTicks is when the process pid started, in clock ticks since
// boot (/proc/PID/stat field 22, at USER_HZ, 100 a second on Linux).
func processStartTicks(pid int) (uint64, bool) {
	stat, err := readProc("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// The command name (field 2) is in parentheses and may hold spaces
	// and ')': the fields after it follow its last ')'.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, false
	}
	fields := bytes.Fields(stat[i+1:])
	const startField = 22 - 3 // field 3 (state) is fields[0]
	if len(fields) <= startField {
		return 0, false
	}
	ticks, err := strconv.ParseUint(string(fields[startField]), 10, 64)
	if err != nil || ticks == 0 {
		return 0, false
	}
	return ticks, true
}
