package objstore

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestHolderEnded: a lock's holder is known dead only when it ran on this
// host, in this PID space, and its process is gone or its pid now names
// a process started after the lock was taken.
func TestHolderEnded(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Skip("no host name:", err)
	}
	space := pidSpace()
	if space == "" {
		t.Skip("no /proc to name the PID space")
	}
	// A process that has ended, and was waited for.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("cannot run true:", err)
	}
	gone := cmd.Process.Pid
	started, ok := processStart(os.Getpid())
	if !ok {
		t.Fatal("processStart of this process failed")
	}
	if d := time.Since(started); d < -startSlack || d > time.Hour {
		t.Fatalf("this process started %v ago, by /proc", d)
	}
	now := time.Now().UTC().Truncate(time.Second)
	parent := os.Getppid() // running, and started before this process
	for _, tc := range []struct {
		name string
		info LockInfo
		want string // a part of the reason, "" for not known dead
	}{
		{"gone", LockInfo{Host: host, PID: gone, PIDSpace: space, Created: now}, "no process has pid"},
		{"reused", LockInfo{Host: host, PID: parent, PIDSpace: space, Created: started.Add(-time.Hour)}, "is now another process"},
		{"running", LockInfo{Host: host, PID: parent, PIDSpace: space, Created: now}, ""},
		{"this process", LockInfo{Host: host, PID: os.Getpid(), PIDSpace: space, Created: started.Add(-time.Hour)}, ""},
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
	host, _ := os.Hostname()
	if host == "" || pidSpace() == "" {
		t.Skip("no host name or PID space")
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("cannot run true:", err)
	}
	s := mustOpen(t, "file://"+t.TempDir())
	ctx := t.Context()
	dead := LockInfo{Holder: "ann", Host: host, PID: cmd.Process.Pid, PIDSpace: pidSpace(), Operation: "apply"}
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
