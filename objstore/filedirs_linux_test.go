package objstore

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// twoBodies returns two bodies whose objects share a directory
// (sha256/<first byte>/).
func twoBodies() ([]byte, []byte) {
	a := []byte("first body")
	pre := sum(a)[:2]
	for i := 0; ; i++ {
		b := fmt.Appendf(nil, "second body %d", i)
		if sum(b)[:2] == pre {
			return a, b
		}
	}
}

// A store's directory moved aside and made again while the store is open
// (a watch keeps it open for hours) is answered for as it is now: Has
// agrees with Get, and so nothing is counted as stored that reads cannot
// find.
func TestFileStoreHasAgreesWithGetAfterDirReplaced(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "store")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := mustOpen(t, "file://"+dir)
	body := []byte("an object before the move")
	if err := s.Put(ctx, sum(body), bytes.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(dir, dir+".old"); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	has, err := s.Has(ctx, sum(body))
	getErr := s.Get(ctx, sum(body), io.Discard, 1<<20)
	if has != (getErr == nil) {
		t.Errorf("after the store's directory was replaced: Has = %v, %v; Get = %v", has, err, getErr)
	}
}

// An object directory moved away (not made again) while the store is
// open takes the next object into that directory made again at its path,
// not an error naming a file that does not exist.
func TestFileStorePutAfterDirMovedAway(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := mustOpen(t, "file://"+dir)
	a, b := twoBodies()
	if err := s.Put(ctx, sum(a), bytes.NewReader(a)); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "sha256", sum(a)[:2])
	if err := os.Rename(sub, filepath.Join(dir, "moved-away")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, sum(b), bytes.NewReader(b)); err != nil {
		t.Fatalf("Put after its directory was moved away: %v", err)
	}
	var got bytes.Buffer
	if err := s.Get(ctx, sum(b), &got, 1<<20); err != nil || !bytes.Equal(got.Bytes(), b) {
		t.Errorf("Get = %q, %v; want %q", got.Bytes(), err, b)
	}
	if _, err := os.Stat(filepath.Join(sub, sum(b))); err != nil {
		t.Errorf("the object is not at its path: %v", err)
	}
}

// A directory that takes no new file (here immutable) fails each Put
// without a descriptor left open for each.
func TestFileStoreNoDescriptorLeakWhenStagingFails(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := mustOpen(t, "file://"+dir)
	a, b := twoBodies()
	if err := s.Put(ctx, sum(a), bytes.NewReader(a)); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "sha256", sum(a)[:2])
	if err := exec.Command("chattr", "+i", sub).Run(); err != nil {
		t.Skipf("cannot make %s immutable (chattr +i needs root and ext4 or the like): %v", sub, err)
	}
	defer exec.Command("chattr", "-i", sub).Run()
	before := countFDs(t)
	for range 20 {
		if err := s.Put(ctx, sum(b), bytes.NewReader(b)); err == nil {
			t.Fatal("Put into an immutable directory succeeded")
		}
	}
	if after := countFDs(t); after > before+2 {
		t.Errorf("%d descriptors open after 20 failed Puts, %d before", after, before)
	}
}

func countFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}

// linkAt learns that this kernel, or these credentials, take no
// AT_EMPTY_PATH only when the /proc way then works: a refusal the /proc
// way shares (the object's directory gone) says nothing of the kernel,
// and the next object is tried with AT_EMPTY_PATH again.
func TestFileStoreLinkAtLearnsNoEmptyPath(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		// refuse says whether the n-th AT_EMPTY_PATH call (from 1) is
		// refused, and removeDir whether that refusal also removes the
		// object's directory first.
		refuse, removeDir func(n int) bool
		wantCalls         int
		wantNoEmpty       bool
	}{
		{
			name:        "kernel refuses AT_EMPTY_PATH",
			refuse:      func(int) bool { return true },
			removeDir:   func(int) bool { return false },
			wantCalls:   1, // learned: the second object goes the /proc way at once
			wantNoEmpty: true,
		},
		{
			name:        "directory removed under the first link",
			refuse:      func(n int) bool { return n == 1 },
			removeDir:   func(n int) bool { return n == 1 },
			wantCalls:   3, // the retry after remaking the directory, and the second object
			wantNoEmpty: false,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "store")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			s := mustOpen(t, "file://"+dir)
			calls := 0
			s.emptyPathLink = func(fd int, path string) error {
				calls++
				if tc.refuse(calls) {
					if tc.removeDir(calls) {
						if err := os.RemoveAll(filepath.Dir(path)); err != nil {
							t.Fatal(err)
						}
					}
					return unix.ENOENT
				}
				return unix.Linkat(fd, "", unix.AT_FDCWD, path, unix.AT_EMPTY_PATH)
			}
			a, b := twoBodies()
			for _, body := range [][]byte{a, b} {
				if err := s.Put(ctx, sum(body), bytes.NewReader(body)); err != nil {
					t.Fatalf("Put: %v", err)
				}
				var got bytes.Buffer
				if err := s.Get(ctx, sum(body), &got, 100); err != nil || got.String() != string(body) {
					t.Fatalf("Get: %q, %v", got.String(), err)
				}
			}
			if calls != tc.wantCalls {
				t.Errorf("AT_EMPTY_PATH tried %d times, want %d", calls, tc.wantCalls)
			}
			if got := s.noEmptyPath.Load(); got != tc.wantNoEmpty {
				t.Errorf("noEmptyPath = %v, want %v", got, tc.wantNoEmpty)
			}
		})
	}
}
