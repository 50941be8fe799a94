package objstore

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestHolderEnded: a lock's holder is known dead only when it ran on this
// host, in this PID space, and its process is gone or its pid now names
// a process started after the lock was taken.
func TestHolderEnded(t *testing.T) {
	host, space := thisHost(t)
	// A process that has ended, and was waited for.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("cannot run true:", err)
	}
	gone := cmd.Process.Pid
	now := time.Now().UTC().Truncate(time.Second)
	parent := os.Getppid() // running
	ticks, ok := processStartTicks(parent)
	if !ok {
		t.Fatal("processStartTicks of the parent process failed")
	}
	for _, tc := range []struct {
		name string
		info LockInfo
		want string // a part of the reason, "" for not known dead
	}{
		{"gone", LockInfo{Host: host, PID: gone, PIDSpace: space, Created: now, StartTicks: ticks}, "no process has pid"},
		{"gone, no start ticks", LockInfo{Host: host, PID: gone, PIDSpace: space, Created: now}, "no process has pid"},
		{"reused", LockInfo{Host: host, PID: parent, PIDSpace: space, Created: now, StartTicks: ticks - 1}, "is now another process"},
		{"running", LockInfo{Host: host, PID: parent, PIDSpace: space, Created: now, StartTicks: ticks}, ""},
		{"running, locked long before its start by the wall clock", LockInfo{Host: host, PID: parent, PIDSpace: space, Created: now.Add(-time.Hour), StartTicks: ticks}, ""},
		{"running, no start ticks", LockInfo{Host: host, PID: parent, PIDSpace: space, Created: now.Add(-time.Hour)}, ""},
		{"this process", LockInfo{Host: host, PID: os.Getpid(), PIDSpace: space, Created: now, StartTicks: 1}, ""},
		{"another host", LockInfo{Host: host + "-other", PID: gone, PIDSpace: space, Created: now}, ""},
		{"another container", LockInfo{Host: host, PID: gone, PIDSpace: space + "x", Created: now}, ""},
		{"no space recorded", LockInfo{Host: host, PID: gone, Created: now}, ""},
		{"no pid", LockInfo{Host: host, PIDSpace: space, Created: now}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := holderEnded(tc.info)
			if (got == "") != (tc.want == "") || !strings.Contains(got, tc.want) {
				t.Errorf("holderEnded = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestLockDeadHolder: Lock does not wait out its timeout for a holder
// known dead, and leaves its lock in place.
func TestLockDeadHolder(t *testing.T) {
	host, space := thisHost(t)
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("cannot run true:", err)
	}
	s := mustOpen(t, "file://"+t.TempDir())
	ctx := t.Context()
	dead := LockInfo{Holder: "ann", Host: host, PID: cmd.Process.Pid, PIDSpace: space, Operation: "apply"}
	if _, err := s.Lock(ctx, "k", dead, 0); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.Lock(ctx, "k", LockInfo{Holder: "bob", Host: host, PID: os.Getpid()}, time.Hour)
		done <- err
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		t.Fatal("Lock waited for a dead holder")
	}
	le, ok := err.(*LockedError)
	if !ok || !strings.Contains(le.Ended, "no process has pid") || le.Info.Holder != "ann" {
		t.Fatalf("Lock: %v, want a *LockedError whose holder ended", err)
	}
	if !strings.Contains(le.Error(), "no longer running") || strings.Contains(le.Error(), "still after waiting") {
		t.Errorf("message: %s", le.Error())
	}
	if _, err := s.Lock(ctx, "k", LockInfo{Holder: "carl"}, 0); err == nil {
		t.Error("the dead holder's lock was removed")
	}
}

// TestHolderEndedClockStep: whether a holder's pid still names its
// process is judged by its start in clock ticks since boot, never by the
// wall clock: a clock stepped forward after the lock was taken moves
// /proc/stat's btime, and a running holder must not read as another
// process. A lock without its start ticks (older pixform) is known dead
// only when no process has its pid.
func TestHolderEndedClockStep(t *testing.T) {
	host, space := thisHost(t)
	parent := os.Getppid() // running: kill(pid, 0) finds it
	const ticks = 50000    // started 500 s after boot
	created := time.Unix(1_000_000_510, 0).UTC()
	for _, tc := range []struct {
		name  string
		btime int64 // /proc/stat's btime as read now
		info  LockInfo
		want  string
	}{
		{"running, clock not stepped", 1_000_000_000, LockInfo{StartTicks: ticks}, ""},
		{"running, clock stepped an hour forward", 1_000_003_600, LockInfo{StartTicks: ticks}, ""},
		{"running, clock stepped an hour back", 999_996_400, LockInfo{StartTicks: ticks}, ""},
		{"pid reused", 1_000_000_000, LockInfo{StartTicks: ticks - 100}, "is now another process"},
		{"pid reused, clock stepped back", 999_996_400, LockInfo{StartTicks: ticks - 100}, "is now another process"},
		{"no start ticks recorded, clock stepped forward", 1_000_003_600, LockInfo{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{
				"/proc/stat": "cpu  1 2 3 4\nbtime " + strconv.FormatInt(tc.btime, 10) + "\nprocesses 9\n",
				"/proc/" + strconv.Itoa(parent) + "/stat": strconv.Itoa(parent) + " (a b) c) S 1 1 1 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 " +
					strconv.Itoa(ticks) + " 1000 100 18446744073709551615\n",
			}
			defer func(r func(string) ([]byte, error)) { readProc = r }(readProc)
			readProc = func(name string) ([]byte, error) {
				if s, ok := files[name]; ok {
					return []byte(s), nil
				}
				return nil, os.ErrNotExist
			}
			info := tc.info
			info.Host, info.PID, info.PIDSpace, info.Created = host, parent, space, created
			got := holderEnded(info)
			if (got == "") != (tc.want == "") || !strings.Contains(got, tc.want) {
				t.Errorf("holderEnded = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestLockRecordsStartTicks: a lock this process takes records its start
// in ticks since boot, which holderEnded compares.
func TestLockRecordsStartTicks(t *testing.T) {
	want, ok := processStartTicks(os.Getpid())
	if !ok {
		t.Skip("no /proc to read this process's start")
	}
	s := mustOpen(t, "file://"+t.TempDir())
	if _, err := s.Lock(t.Context(), "k", LockInfo{Holder: "ann", PID: os.Getpid()}, 0); err != nil {
		t.Fatal(err)
	}
	got, _, err := s.readLock(t.Context(), LockKey("k"))
	if err != nil {
		t.Fatal(err)
	}
	if got.StartTicks != want {
		t.Errorf("StartTicks = %d, want %d", got.StartTicks, want)
	}
}

// thisHost is this host's name and PID space, as a lock taken here
// records them; the test is skipped where either cannot be read.
func thisHost(t *testing.T) (host, space string) {
	t.Helper()
	host, err := os.Hostname()
	if err != nil || host == "" {
		t.Skip("no host name:", err)
	}
	space = pidSpace()
	if space == "" {
		t.Skip("no /proc to name the PID space")
	}
	return host, space
}
