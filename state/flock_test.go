package state

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func fixedNow() time.Time { return time.Date(2025, 1, 2, 15, 4, 5, 0, time.UTC) }

func TestAcquireDirLock(t *testing.T) {
	tests := map[string]struct {
		held     bool // another holder has it
		timeout  time.Duration
		cancel   bool
		wantErr  []string
		notErr   []string
		holder   string // of the lock held; "pixform apply" when empty
		wantLock bool
	}{
		"held by watch, which never finishes": {held: true, holder: "pixform watch", wantErr: []string{"(pid", "pixform watch, since", "watch holds the lock until it is stopped", "pick or approve in the gallery of pixform watch -serve", "stop watch (Ctrl-C)"}, notErr: []string{"wait for it to finish", "lock-timeout"}},
		"held by watch, timeout":              {held: true, holder: "pixform watch", timeout: 30 * time.Millisecond, wantErr: []string{"still held the lock after 30ms", "watch holds the lock until it is stopped"}, notErr: []string{"longer -lock-timeout"}},
		"free":                                {wantLock: true},
		"held, try once":                      {held: true, wantErr: []string{"another pixform is running in", fmt.Sprintf("pid %d, pixform apply, since 2025-01-02T15:04:05Z", os.Getpid()), "-lock-timeout=60s"}},
		"held, timeout":                       {held: true, timeout: 30 * time.Millisecond, wantErr: []string{"still held the lock after 30ms", "longer -lock-timeout"}},
		"held, ctx cancel":                    {held: true, timeout: time.Hour, cancel: true, wantErr: []string{"stopped waiting", "context canceled", "pixform apply"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.held {
				holder := tc.holder
				if holder == "" {
					holder = "pixform apply"
				}
				rel, err := acquireDirLock(ctx, dir, 0, holder, fixedNow, time.Millisecond)
				if err != nil {
					t.Fatal(err)
				}
				defer rel()
			}
			if tc.cancel {
				cancel()
			}
			rel, err := acquireDirLock(ctx, dir, tc.timeout, "pixform plan", fixedNow, time.Millisecond)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				data, _ := os.ReadFile(filepath.Join(dir, WorkDirName, lockFileName))
				if !strings.Contains(string(data), `"holder":"pixform plan"`) {
					t.Fatalf("lock file holds %q", data)
				}
				if err := rel(); err != nil {
					t.Fatal(err)
				}
				if err := rel(); err != nil {
					t.Fatalf("second release: %v", err)
				}
				return
			}
			if err == nil {
				rel()
				t.Fatal("acquired a held lock")
			}
			var le *LockedError
			if !errors.As(err, &le) {
				t.Fatalf("error %T is not a *LockedError: %v", err, err)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			for _, w := range tc.notErr {
				if strings.Contains(err.Error(), w) {
					t.Errorf("error %q contains %q", err, w)
				}
			}
		})
	}
}

func TestAcquireDirLockWaitsForRelease(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	rel, err := acquireDirLock(ctx, dir, 0, "pixform apply", fixedNow, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		rel2, err := acquireDirLock(ctx, dir, time.Minute, "pixform watch", fixedNow, time.Millisecond)
		if err == nil {
			err = rel2()
		}
		got <- err
	}()
	if err := rel(); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatalf("waiter: %v", err)
	}
	// After a release, the lock is free again and its file exists.
	rel3, err := AcquireDirLock(ctx, dir, 0, "pixform apply")
	if err != nil {
		t.Fatal(err)
	}
	rel3()
	if data, _ := os.ReadFile(filepath.Join(dir, WorkDirName, ".gitignore")); string(data) != "*\n" {
		t.Fatalf(".gitignore = %q", data)
	}
}

func TestReadHolder(t *testing.T) {
	tests := map[string]struct {
		content *string
		want    string
	}{
		"no file": {nil, "holder unknown"},
		"empty":   {ptr(""), "holder unknown: it has not written"},
		"garbage": {ptr("{"), "holder unknown: unreadable"},
		"no pid":  {ptr(`{"holder":"x"}`), "holder unknown: unreadable"},
		"full":    {ptr(`{"pid":7,"holder":"pixform watch","since":"2025-01-01T00:00:00Z"}`), "pid 7, pixform watch, since 2025-01-01T00:00:00Z"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "lock")
			if tc.content != nil {
				if err := os.WriteFile(p, []byte(*tc.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if got, _ := readHolder(p); !strings.HasPrefix(got, tc.want) {
				t.Fatalf("got %q, want prefix %q", got, tc.want)
			}
		})
	}
}
