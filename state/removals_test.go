package state

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pixform/pixform/addrs"
)

func sumOf(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// TestRemovalsAfterCrash plays the removal protocol up to a crash point,
// then lets the next run finish it.
func TestRemovalsAfterCrash(t *testing.T) {
	tests := map[string]struct {
		// crash is how far the interrupted apply got: "intent" (noted,
		// entry still recorded), "entry" (entry removed, file not yet).
		crash string
		// edit, if set, is what the user wrote to the file meanwhile.
		edit        string
		recordOther string // another entry's path recorded meanwhile
		wantGone    bool
		wantKept    bool
	}{
		"entry still recorded":     {crash: "intent"},
		"entry removed":            {crash: "entry", wantGone: true},
		"file changed by the user": {crash: "entry", edit: "mine", wantKept: true},
		"path recorded again":      {crash: "entry", recordOther: "a.png"},
		"recorded in another case": {crash: "entry", recordOther: "A.PNG"},
		"recorded at another path": {crash: "entry", recordOther: "b.png", wantGone: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "a.png")
			if err := os.WriteFile(file, []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
			e := entryN(0)
			e.Path, e.SHA256 = "a.png", sumOf("old")
			lock := NewLock()
			lock.Images[addrs.MustParse("image.a")] = e
			if err := IntendRemovals(dir, []Removal{{Path: e.Path, SHA256: e.SHA256}}); err != nil {
				t.Fatal(err)
			}
			if tt.crash == "entry" {
				delete(lock.Images, addrs.MustParse("image.a"))
			}
			if tt.edit != "" {
				if err := os.WriteFile(file, []byte(tt.edit), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tt.recordOther != "" {
				o := entryN(1)
				o.Path = tt.recordOther
				lock.Images[addrs.MustParse("image.b")] = o
			}
			pending, err := PendingRemovals(dir, lock)
			if err != nil {
				t.Fatal(err)
			}
			if (len(pending) == 1) != tt.wantGone {
				t.Errorf("pending = %v, want gone %v", pending, tt.wantGone)
			}
			removed, kept, err := FinishRemovals(context.Background(), dir, lock)
			if err != nil {
				t.Fatal(err)
			}
			_, statErr := os.Stat(file)
			if gone := os.IsNotExist(statErr); gone != tt.wantGone || (len(removed) == 1) != tt.wantGone {
				t.Errorf("file gone %v, removed %v; want gone %v", gone, removed, tt.wantGone)
			}
			if (len(kept) == 1) != tt.wantKept {
				t.Errorf("kept %v, want kept %v", kept, tt.wantKept)
			}
			if _, err := os.Stat(filepath.Join(dir, WorkDirName, removalsName)); !os.IsNotExist(err) {
				t.Errorf("the note is still there: %v", err)
			}
			// Nothing left to do.
			if p, err := PendingRemovals(dir, lock); err != nil || len(p) != 0 {
				t.Errorf("after finishing: pending %v, %v", p, err)
			}
		})
	}
}

func TestRemovalsNeverFollowLinks(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	victim := filepath.Join(outside, "v.png")
	if err := os.WriteFile(victim, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "lnk")); err != nil {
		t.Skip("no symbolic links:", err)
	}
	if err := IntendRemovals(dir, []Removal{{Path: "lnk/v.png", SHA256: sumOf("old")}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := FinishRemovals(context.Background(), dir, NewLock()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(victim); err != nil {
		t.Fatalf("the file behind the link is gone: %v", err)
	}
}

func TestRemovalsMerge(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a.png", "b.png"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := IntendRemovals(dir, []Removal{{"a.png", sumOf("a.png")}}); err != nil {
		t.Fatal(err)
	}
	if err := IntendRemovals(dir, []Removal{{"b.png", sumOf("b.png")}, {"a.png", sumOf("a.png")}}); err != nil {
		t.Fatal(err)
	}
	p, err := PendingRemovals(dir, NewLock())
	if err != nil || len(p) != 2 {
		t.Fatalf("pending %v, %v", p, err)
	}
}

func TestRemovalsBadLog(t *testing.T) {
	for name, body := range map[string]string{
		"not json":     "{",
		"bad path":     `{"version": 1, "removals": [{"path": "../x.png", "sha256": "` + sumOf("") + `"}]}`,
		"bad sha":      `{"version": 1, "removals": [{"path": "x.png", "sha256": "zz"}]}`,
		"new version":  `{"version": 4, "removals": []}`,
		"extra fields": `{"version": 1, "removals": [], "x": 1}`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			wd, err := EnsureWorkDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(wd, removalsName), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			_, _, err = FinishRemovals(context.Background(), dir, NewLock())
			if err == nil || !strings.Contains(err.Error(), "delete ") || !strings.Contains(err.Error(), removalsName) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestForgetRemovals(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a.png", "b.png"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := IntendRemovals(dir, []Removal{{"a.png", sumOf("a.png")}, {"b.png", sumOf("b.png")}}); err != nil {
		t.Fatal(err)
	}
	if err := ForgetRemovals(dir, []string{"A.png"}); err != nil {
		t.Fatal(err)
	}
	if p, err := PendingRemovals(dir, NewLock()); err != nil || len(p) != 1 || p[0].Path != "b.png" {
		t.Fatalf("pending %v, %v", p, err)
	}
	if err := ForgetRemovals(dir, []string{"b.png"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, WorkDirName, removalsName)); !os.IsNotExist(err) {
		t.Errorf("an empty note is left: %v", err)
	}
}

// A note that did not come from this checkout's apply (committed in a pull
// request, copied from elsewhere) names no file pixform created: it never
// deletes anything, whatever device and inode it claims, and a note of a
// directory or of anything but a regular file is dropped without an error.
func TestRemovalsNotesFromElsewhere(t *testing.T) {
	tests := map[string]struct {
		body func(t *testing.T, dir string) string // the note's removals
	}{
		"no inode (an older note, or a committed one)": {
			body: func(t *testing.T, dir string) string {
				return `{"path": "README.md", "sha256": "` + sumOf("readme") + `"}`
			},
		},
		"another file's inode": {
			body: func(t *testing.T, dir string) string {
				fi, err := os.Lstat(filepath.Join(dir, "other.txt"))
				if err != nil {
					t.Fatal(err)
				}
				id, _ := idOf(fi)
				return fmt.Sprintf(`{"path": "README.md", "sha256": %q, "dev": %d, "ino": %d}`, sumOf("readme"), id.Dev, id.Ino)
			},
		},
		"a directory": {
			body: func(t *testing.T, dir string) string {
				fi, err := os.Lstat(filepath.Join(dir, "emptydir"))
				if err != nil {
					t.Fatal(err)
				}
				id, _ := idOf(fi)
				return fmt.Sprintf(`{"path": "emptydir", "sha256": %q, "dev": %d, "ino": %d}`, sumOf(""), id.Dev, id.Ino)
			},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, "other.txt")
			if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("readme"), 0o644); err != nil {
				t.Fatal(err)
			}
			mkdir(t, dir, "emptydir")
			mkdir(t, dir, WorkDirName)
			note := `{"version": 2, "removals": [` + tt.body(t, dir) + `]}`
			if err := os.WriteFile(filepath.Join(dir, WorkDirName, removalsName), []byte(note), 0o644); err != nil {
				t.Fatal(err)
			}
			if p, err := PendingRemovals(dir, NewLock()); err != nil || len(p) != 0 {
				t.Errorf("pending %v, %v", p, err)
			}
			if _, _, err := FinishRemovals(context.Background(), dir, NewLock()); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{"README.md", "emptydir", "other.txt"} {
				if _, err := os.Lstat(filepath.Join(dir, p)); err != nil {
					t.Errorf("%s: %v", p, err)
				}
			}
			if _, err := os.Lstat(filepath.Join(dir, WorkDirName, removalsName)); !os.IsNotExist(err) {
				t.Errorf("the note stays: %v", err)
			}
		})
	}
}

// A file replaced since it was noted (same bytes, another inode) is not
// the noted file: it stays.
func TestRemovalsOnlyTheNotedFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a.png")
	if err := os.WriteFile(file, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := IntendRemovals(dir, []Removal{{Path: "a.png", SHA256: sumOf("old")}}); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(file, filepath.Join(dir, "kept.png")); err != nil { // keeps the inode in use
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := FinishRemovals(context.Background(), dir, NewLock()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(file); err != nil {
		t.Errorf("a file of the same bytes but not the noted one was removed: %v", err)
	}
}

// Begin stops, changing nothing, once its ctx is done.
func TestBeginChecksCtx(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.png"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := IntendRemovals(dir, []Removal{{Path: "a.png", SHA256: sumOf("old")}}); err != nil {
		t.Fatal(err)
	}
	s := NewStore(dir, NewLock(), NewRecorder(filepath.Join(dir, LockFileName), NewLock()), nil)
	defer s.Close(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Begin(ctx, nil, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Begin = %v, want context.Canceled", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a.png")); err != nil {
		t.Errorf("a cancelled Begin removed a file: %v", err)
	}
	if _, _, err := FinishRemovals(ctx, dir, NewLock()); !errors.Is(err, context.Canceled) {
		t.Errorf("FinishRemovals = %v, want context.Canceled", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a.png")); err != nil {
		t.Errorf("a cancelled FinishRemovals removed a file: %v", err)
	}
}
