package state

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pixform/pixform/addrs"
)

// TestRemove: state rm forgets entries, leaves their files, drops the
// removal notes of their paths (and only those) before the lockfile stops
// recording them, and changes nothing when it cannot.
func TestRemove(t *testing.T) {
	setup := func(t *testing.T) (dir string, lock *Lock) {
		dir = t.TempDir()
		lock = lockN(3)
		if err := WriteFileAtomic(filepath.Join(dir, LockFileName), lock.Marshal()); err != nil {
			t.Fatal(err)
		}
		notes := []Removal{
			{Path: strings.ToUpper(lock.Images[addrs.MustParse("image.img[1]")].Path), SHA256: lock.Images[addrs.MustParse("image.img[1]")].SHA256},
			{Path: "images/other.png", SHA256: lock.Images[addrs.MustParse("image.img[2]")].SHA256},
		}
		// Only files that exist are noted.
		for _, n := range notes {
			full := filepath.Join(dir, filepath.FromSlash(n.Path))
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(full, []byte(n.Path), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := IntendRemovals(dir, notes); err != nil {
			t.Fatal(err)
		}
		if got, err := readRemovals(dir); err != nil || len(got) != len(notes) {
			t.Fatalf("notes after setup: %v, %v; want %d", got, err, len(notes))
		}
		return dir, lock
	}
	readLock := func(t *testing.T, dir string) *Lock {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(dir, LockFileName))
		if err != nil {
			t.Fatal(err)
		}
		l, err := ParseLock(data, LockFileName)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}

	t.Run("removes", func(t *testing.T) {
		dir, lock := setup(t)
		before := lock.Clone()
		if err := Remove(context.Background(), dir, lock, []addrs.Addr{addrs.MustParse("image.img[1]"), addrs.MustParse("image.img[0]")}); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(lock, before) {
			t.Error("Remove changed the lock it was given")
		}
		want := before.Clone()
		delete(want.Images, addrs.MustParse("image.img[0]"))
		delete(want.Images, addrs.MustParse("image.img[1]"))
		if got := readLock(t, dir); !reflect.DeepEqual(got, want) {
			t.Errorf("lockfile holds %v, want %v", got.Images, want.Images)
		}
		notes, err := readRemovals(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(notes) != 1 || notes[0].Path != "images/other.png" {
			t.Errorf("notes after Remove: %v, want only images/other.png's", notes)
		}
	})

	t.Run("unknown address", func(t *testing.T) {
		dir, lock := setup(t)
		err := Remove(context.Background(), dir, lock, []addrs.Addr{addrs.MustParse("image.img[1]"), addrs.MustParse("image.nope")})
		if err == nil || !strings.Contains(err.Error(), "image.nope") {
			t.Fatalf("Remove of an unknown address: %v", err)
		}
		if got := readLock(t, dir); !reflect.DeepEqual(got, lock) {
			t.Error("the lockfile changed")
		}
		if notes, _ := readRemovals(dir); len(notes) != 2 {
			t.Errorf("notes changed: %v", notes)
		}
	})

	// The notes go first: were the lockfile written first, a crash in
	// between would leave a note that has the next apply delete a file
	// the user chose to keep. So when they cannot be changed, neither is
	// the lockfile.
	t.Run("notes fail", func(t *testing.T) {
		dir, lock := setup(t)
		if err := os.WriteFile(filepath.Join(dir, WorkDirName, removalsName), []byte("{"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := Remove(context.Background(), dir, lock, []addrs.Addr{addrs.MustParse("image.img[1]")}); err == nil {
			t.Fatal("Remove succeeded with an unreadable removal log")
		}
		if got := readLock(t, dir); !reflect.DeepEqual(got, lock) {
			t.Error("the lockfile changed although the notes could not be")
		}
	})

	t.Run("lockfile fails", func(t *testing.T) {
		dir, lock := setup(t)
		p := filepath.Join(dir, LockFileName)
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(p, "x"), 0o755); err != nil {
			t.Fatal(err)
		}
		err := Remove(context.Background(), dir, lock, []addrs.Addr{addrs.MustParse("image.img[1]")})
		if err == nil || !strings.Contains(err.Error(), "write lockfile") {
			t.Fatalf("Remove with the lockfile a directory: %v", err)
		}
	})

	t.Run("canceled", func(t *testing.T) {
		dir, lock := setup(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := Remove(ctx, dir, lock, []addrs.Addr{addrs.MustParse("image.img[1]")}); err == nil {
			t.Fatal("Remove with a canceled ctx succeeded")
		}
		if got := readLock(t, dir); !reflect.DeepEqual(got, lock) {
			t.Error("the lockfile changed")
		}
		if notes, _ := readRemovals(dir); len(notes) != 2 {
			t.Errorf("notes changed: %v", notes)
		}
	})
}
