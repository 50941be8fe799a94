package state

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/pixform/pixform/addrs"
)

// opsJournal is a Journal that keeps the addresses it deletes and sets.
type opsJournal struct {
	mu   sync.Mutex
	ops  []string
	lock *Lock
}

func (j *opsJournal) Record(_ context.Context, dels []addrs.Addr, sets map[addrs.Addr]Entry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, a := range dels {
		j.ops = append(j.ops, "delete "+a.String())
	}
	for a := range sets {
		j.ops = append(j.ops, "set "+a.String())
	}
	return nil
}
func (j *opsJournal) Snapshot() *Lock { return j.lock }
func (j *opsJournal) Close() error    { return nil }

// A commit to the path that another image leaves (b.png, recorded for
// image.b, which the run deletes or moves away) refuses to overwrite the
// file there when it is no longer the one recorded (edited after a saved
// plan): an *OccupiedError that says so, the edit kept, image.b's entry
// kept where it still records the path, the image kept in the cache. The
// file as recorded is replaced as before.
func TestStoreCommitRefusesATakenPathEdited(t *testing.T) {
	for name, tc := range map[string]struct {
		left   bool // image.b's entry is deleted before the commit
		edited bool
	}{
		"left, edited":           {left: true, edited: true},
		"still recorded, edited": {edited: true},
		"left, as recorded":      {left: true},
		"still recorded":         {},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			ctx := context.Background()
			old := []byte("the image of b")
			eb := entryN(2)
			eb.Path, eb.SHA256, eb.Bytes = "b.png", sha(string(old)), int64(len(old))
			lock := NewLock()
			b := addrs.MustParse("image.b")
			lock.Images[b] = eb
			there := old
			if tc.edited {
				there = []byte("my own edit")
			}
			if err := os.WriteFile(filepath.Join(dir, "b.png"), there, 0o644); err != nil {
				t.Fatal(err)
			}
			j := &opsJournal{lock: lock}
			cache := OpenCache(dir)
			s := NewStore(dir, lock, j, cache)
			defer s.Close(ctx)
			if err := s.Begin(ctx, []string{"b.png"}, []Removal{{Path: "b.png", SHA256: eb.SHA256}}); err != nil {
				t.Fatal(err)
			}
			if tc.left {
				if _, err := s.Delete(ctx, Deletion{Addr: b, Entry: &eb}); err != nil {
					t.Fatal(err)
				}
			}
			j.ops = nil
			image := []byte("the new image of a")
			ea := entryN(1)
			ea.Path, ea.SHA256, ea.Bytes = "b.png", sha(string(image)), int64(len(image))
			f, err := s.CreateTemp("b.png")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Write(image); err != nil {
				t.Fatal(err)
			}
			err = s.Commit(ctx, Commit{Addr: addrs.MustParse("image.a"), Entry: ea, Temp: f, Cache: true})
			got, _ := os.ReadFile(filepath.Join(dir, "b.png"))
			if !tc.edited {
				if err != nil || string(got) != string(image) {
					t.Fatalf("Commit: %v; b.png holds %q", err, got)
				}
				return
			}
			var oe *OccupiedError
			if !errors.As(err, &oe) || !oe.Edited || oe.Path != "b.png" || !oe.Kept {
				t.Fatalf("Commit: %v (%+v), want an *OccupiedError, edited, kept", err, oe)
			}
			if string(got) != "my own edit" {
				t.Errorf("b.png holds %q, want the edit", got)
			}
			if len(j.ops) != 0 {
				t.Errorf("lockfile changes %v, want none", j.ops)
			}
			if _, ok := cache.Info(ea.Inputs.Digest(), ea.Provider); !ok {
				t.Error("the image is not in the content cache")
			}
			noTemps(t, dir)
		})
	}
}

// takenPaths.edited trusts the stat cache's hash while the file's stat
// is the one recorded with it, and hashes the file otherwise.
func TestTakenPathsEdited(t *testing.T) {
	recorded := []byte("the recorded image")
	for name, tc := range map[string]struct {
		there []byte // nil: nothing there
		cache string // "": no stat cache record; "same": one of the file's stat, with the recorded hash; "stale": of another stat
		want  bool
	}{
		"nothing there":                 {want: false},
		"as recorded, no cache":         {there: recorded, want: false},
		"edited, no cache":              {there: []byte("an edit"), want: true},
		"stat as cached: not hashed":    {there: []byte("an edit"), cache: "same", want: false},
		"stat not as cached: hashed":    {there: []byte("an edit"), cache: "stale", want: true},
		"as recorded, stale cache":      {there: recorded, cache: "stale", want: false},
		"not taken over: never checked": {there: []byte("an edit"), want: false},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "b.png")
			if tc.there != nil {
				if err := os.WriteFile(p, tc.there, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tc.cache != "" {
				fi, err := os.Lstat(p)
				if err != nil {
					t.Fatal(err)
				}
				k := statKeyOf(fi)
				if tc.cache == "stale" {
					k.MTime--
				}
				wd, err := EnsureWorkDir(dir)
				if err != nil {
					t.Fatal(err)
				}
				data := encodeStatCache(map[string]statRecord{"b.png": {statKey: k, SHA256: sha(string(recorded)), MediaType: MediaUnknown}})
				if err := os.WriteFile(filepath.Join(wd, statCacheName), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			targets := map[string]string{"b.png": "b.png"}
			if name == "not taken over: never checked" {
				targets = nil
			}
			tp := takenOf(dir, targets, []Removal{{Path: "b.png", SHA256: sha(string(recorded))}})
			if got := tp.edited("b.png"); got != tc.want {
				t.Errorf("edited = %v, want %v", got, tc.want)
			}
		})
	}
}
