package state

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// rewriteUntilCtimeMoves writes data over the file at p in place (the
// same inode, as a freed inode reused at once by `git checkout FILE`
// is) until its change time differs from before: the file system's clock
// is coarse, and a rewrite within one tick leaves the change time as it
// was.
func rewriteUntilCtimeMoves(t *testing.T, p string, data []byte) {
	t.Helper()
	ctime := func() int64 {
		fi, err := lstatID(p)
		if err != nil {
			t.Fatal(err)
		}
		_, c, ok := inodeCTime(fi)
		if !ok {
			t.Skip("no change time here")
		}
		return c
	}
	before := ctime()
	for ctime() == before {
		time.Sleep(time.Millisecond)
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// A noted file is removed only while it is the very file noted: its
// device and inode, and its change time, mtime and size, as well as its
// hash. A file put back with the same bytes at the same inode (deleted,
// then restored by `git checkout FILE` on a file system that reuses the
// freed inode at once) is the user's: it stays, and why is said. So does
// a file noted by an older pixform, whose note cannot tell.
func TestRemovalsKeepAFileRestoredWithTheSameBytes(t *testing.T) {
	for name, tc := range map[string]struct {
		change  func(t *testing.T, dir, file string)
		wantWhy string
	}{
		"unchanged": {change: func(*testing.T, string, string) {}},
		"restored with the same bytes at the same inode": {
			change:  func(t *testing.T, _, file string) { rewriteUntilCtimeMoves(t, file, []byte("old")) },
			wantWhy: "not the file noted",
		},
		"noted by an older pixform (no change time)": {
			change: func(t *testing.T, dir, file string) {
				fi, err := lstatID(file)
				if err != nil {
					t.Fatal(err)
				}
				id, _ := idOf(fi)
				note := fmt.Sprintf(`{"version": 2, "removals": [{"path": "a.png", "sha256": %q, "dev": %d, "ino": %d}]}`, sumOf("old"), id.Dev, id.Ino)
				if err := os.WriteFile(filepath.Join(dir, WorkDirName, removalsName), []byte(note), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			wantWhy: "older pixform",
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "a.png")
			if err := os.WriteFile(file, []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := IntendRemovals(dir, []Removal{{Path: "a.png", SHA256: sumOf("old")}}); err != nil {
				t.Fatal(err)
			}
			tc.change(t, dir, file)
			pending, err := PendingRemovals(dir, NewLock())
			if err != nil {
				t.Fatal(err)
			}
			removed, kept, err := FinishRemovals(context.Background(), dir, NewLock())
			if err != nil {
				t.Fatal(err)
			}
			_, statErr := os.Stat(file)
			if tc.wantWhy == "" {
				if len(pending) != 1 || len(removed) != 1 || !os.IsNotExist(statErr) {
					t.Errorf("pending %v, removed %v, stat %v: want the noted file removed", pending, removed, statErr)
				}
				return
			}
			if len(pending) != 0 || len(removed) != 0 || statErr != nil {
				t.Fatalf("pending %v, removed %v, stat %v: want the file kept", pending, removed, statErr)
			}
			if len(kept) != 1 || !containsFold(fmt.Sprint(kept), tc.wantWhy) {
				t.Errorf("kept %v, want a.png kept saying %q", kept, tc.wantWhy)
			}
		})
	}
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
