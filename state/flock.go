package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/pixform/pixform/internal/nofollow"
)

// lockFileName is the process lock inside .pixform/.
const lockFileName = "lock"

// lockPoll is how often AcquireDirLock retries while waiting.
const lockPoll = 100 * time.Millisecond

// holderInfo is what the process holding the lock writes into it, so that
// a waiting one can say who it waits for.
type holderInfo struct {
	PID    int    `json:"pid"`
	Holder string `json:"holder"`
	Since  string `json:"since"` // RFC 3339
}

// LockedError says that another pixform holds the working directory's
// process lock.
type LockedError struct {
	Dir string
	// Holder describes the holder, e.g. "pid 1234, pixform apply, since
	// 2025-01-02T15:04:05Z", or "unknown holder" when it wrote nothing yet.
	Holder string
	// Waited is how long AcquireDirLock waited (its timeout).
	Waited time.Duration
	// Watch says the holder is pixform watch, which holds the lock until
	// it is stopped: waiting for it does not help.
	Watch bool
}

// watchHolder is the holder pixform watch writes.
const watchHolder = "pixform watch"

// Error names the directory and the holder, and says what to do.
func (e *LockedError) Error() string {
	if e.Watch {
		waited := ""
		if e.Waited > 0 {
			waited = fmt.Sprintf(" and still held the lock after %v", e.Waited)
		}
		return fmt.Sprintf("another pixform is running in %s (%s)%s: watch holds the lock until it is stopped, and applies each save itself; pick or approve in the gallery of pixform watch -serve, or stop watch (Ctrl-C) and run this again", e.Dir, e.Holder, waited)
	}
	if e.Waited > 0 {
		return fmt.Sprintf("another pixform is running in %s (%s) and still held the lock after %v: wait for it to finish, or pass a longer -lock-timeout", e.Dir, e.Holder, e.Waited)
	}
	return fmt.Sprintf("another pixform is running in %s (%s): wait for it to finish, or pass -lock-timeout=60s to wait", e.Dir, e.Holder)
}

// AcquireDirLock takes the process lock of the working directory dir: an
// exclusive lock on .pixform/lock (flock; LockFileEx on Windows), which the kernel drops
// when the process dies, so a crash never leaves it stuck. It retries until
// timeout has passed (0: try once) or ctx is done. On success it writes
// holder ("pixform apply"), the pid and the time into the file, and release
// unlocks it. When another process holds it, the error is a *LockedError
// naming that holder.
func AcquireDirLock(ctx context.Context, dir string, timeout time.Duration, holder string) (release func() error, err error) {
	return acquireDirLock(ctx, dir, timeout, holder, time.Now, lockPoll)
}

func acquireDirLock(ctx context.Context, dir string, timeout time.Duration, holder string, now func() time.Time, poll time.Duration) (func() error, error) {
	wd, err := EnsureWorkDir(dir)
	if err != nil {
		return nil, err
	}
	p := filepath.Join(wd, lockFileName)
	f, err := nofollow.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open process lock %s: %w", p, err)
	}
	var deadline <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		deadline = t.C
	}
	for {
		err := tryLock(f)
		if err == nil {
			break
		}
		if !lockBusy(err) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", p, err)
		}
		locked := func() error {
			holder, cmd := readHolder(p)
			return &LockedError{Dir: dir, Holder: holder, Waited: timeout, Watch: cmd == watchHolder}
		}
		if deadline == nil {
			f.Close()
			return nil, locked()
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("stopped waiting for the process lock: %w", errors.Join(ctx.Err(), locked()))
		case <-deadline:
			f.Close()
			return nil, locked()
		case <-time.After(poll):
		}
	}
	info, _ := json.Marshal(holderInfo{PID: os.Getpid(), Holder: holder, Since: now().UTC().Format(time.RFC3339)})
	if err := writeHolder(f, append(info, '\n')); err != nil {
		unlock(f)
		f.Close()
		return nil, fmt.Errorf("write process lock %s: %w", p, err)
	}
	released := false
	return func() error {
		if released {
			return nil
		}
		released = true
		// Clear the holder while still holding the lock, then unlock.
		terr := f.Truncate(0)
		uerr := unlock(f)
		cerr := f.Close()
		if err := errors.Join(terr, uerr, cerr); err != nil {
			return fmt.Errorf("release process lock %s: %w", p, err)
		}
		return nil
	}, nil
}

func writeHolder(f *os.File, info []byte) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt(info, 0)
	return err
}

// readHolder describes the lock's holder from what it wrote, and returns
// the holder's command ("pixform apply"), "" when unknown.
func readHolder(p string) (desc, cmd string) {
	data, err := readWorkFile(p)
	if err != nil || len(data) == 0 {
		return "holder unknown: it has not written its details yet", ""
	}
	var h holderInfo
	if err := json.Unmarshal(data, &h); err != nil || h.PID == 0 {
		return "holder unknown: unreadable " + p, ""
	}
	return fmt.Sprintf("pid %d, %s, since %s", h.PID, h.Holder, h.Since), h.Holder
}
