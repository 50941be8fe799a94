package objstore

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"syscall"
	"time"
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

// processEnded says why the process pid, which took a lock at created,
// has ended, or "" while it may still run: no process has that ID, or
// the process that has it now started after the lock was taken (the ID
// was reused).
func processEnded(pid int, created time.Time) string {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return "no process has pid " + strconv.Itoa(pid) + " now"
	}
	start, ok := processStart(pid)
	// The lock was taken after its process started; Created is in whole
	// seconds, and the start read here is to a second: a start later
	// than that, with room, is another process.
	if ok && start.After(created.Add(startSlack)) {
		return "pid " + strconv.Itoa(pid) + " is now another process, started at " + start.UTC().Format(time.RFC3339) + ", after the lock was taken"
	}
	return ""
}

// startSlack is how much later than a lock's Created its process's start
// may read (both are rounded to seconds) and still be the same process.
const startSlack = 3 * time.Second

// processStart is when the process pid started: the boot time
// (/proc/stat btime) plus its start in clock ticks since boot
// (/proc/PID/stat field 22), at USER_HZ, 100 a second on Linux.
func processStart(pid int) (time.Time, bool) {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return time.Time{}, false
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// the fields after it follow its last ')'.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return time.Time{}, false
	}
	fields := bytes.Fields(stat[i+1:])
	const startField = 22 - 3 // field 3 (state) is fields[0]
	if len(fields) <= startField {
		return time.Time{}, false
	}
	ticks, err := strconv.ParseInt(string(fields[startField]), 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	procStat, err := os.ReadFile("/proc/stat")
	if err != nil {
		return time.Time{}, false
	}
	for _, line := range bytes.Split(procStat, []byte("\n")) {
		if rest, ok := bytes.CutPrefix(line, []byte("btime ")); ok {
			btime, err := strconv.ParseInt(string(bytes.TrimSpace(rest)), 10, 64)
			if err != nil {
				return time.Time{}, false
			}
			const userHZ = 100
			return time.Unix(btime+ticks/userHZ, 0), true
		}
	}
	return time.Time{}, false
}
