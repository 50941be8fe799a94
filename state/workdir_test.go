package state

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pixform/pixform/addrs"
)

// No user of .pixform reads or writes through a symbolic link (or a file)
// at .pixform or at the directories pixform uses in it: a link committed
// in a pull request would send its writes out of the working directory.
func TestWorkDirRefusesLinks(t *testing.T) {
	uses := map[string]func(dir string) error{
		"EnsureWorkDir": func(dir string) error { _, err := EnsureWorkDir(dir); return err },
		"AcquireDirLock": func(dir string) error {
			release, err := AcquireDirLock(context.Background(), dir, 0, "test")
			if err == nil {
				release()
			}
			return err
		},
		"Refresh": func(dir string) error {
			lock := NewLock()
			e := entryN(0)
			e.Path = "a.png"
			lock.Images[addrs.MustParse("image.a")] = e
			_, err := Refresh(dir, lock, false)
			return err
		},
		"IntendRemovals": func(dir string) error {
			return IntendRemovals(dir, []Removal{{Path: "a.png", SHA256: sumOf("a")}})
		},
		"FinishRemovals": func(dir string) error {
			_, _, err := FinishRemovals(context.Background(), dir, NewLock())
			return err
		},
		"CreateTemp notes a directory": func(dir string) error {
			s := NewStore(dir, NewLock(), nopJournal{}, nil)
			f, err := s.CreateTemp("new/x.png")
			if err == nil {
				AbortTemp(f)
			}
			return err
		},
		"Cache.Put": func(dir string) error {
			return OpenCache(dir).Put(sumOf("d"), "draft", filepath.Join(dir, "a.png"), sumOf("a"))
		},
		"Move stages": func(dir string) error {
			s := NewStore(dir, NewLock(), nopJournal{}, nil)
			var errs []error
			ea, eb := entryN(0), entryN(1)
			ea.Path, ea.SHA256 = "a.png", sumOf("a")
			eb.Path, eb.SHA256 = "b.png", sumOf("b")
			s.Move(context.Background(), []Move{
				{From: Prior{Addr: addrs.MustParse("image.a"), Entry: ea}, To: addrs.MustParse("image.b"), Path: "b.png"},
				{From: Prior{Addr: addrs.MustParse("image.b"), Entry: eb}, To: addrs.MustParse("image.a"), Path: "a.png"},
			}, func(i int, err error, skipped bool) { errs = append(errs, err) })
			return errors.Join(errs...)
		},
	}
	shapes := map[string]func(t *testing.T, dir, outside string){
		".pixform links out": func(t *testing.T, dir, outside string) {
			symlink(t, outside, filepath.Join(dir, WorkDirName))
		},
		".pixform links to the parent": func(t *testing.T, dir, outside string) {
			// outside plays the parent: dir/.pixform -> outside.
			symlink(t, "../"+filepath.Base(outside), filepath.Join(dir, WorkDirName))
		},
		".pixform is a file": func(t *testing.T, dir, outside string) {
			if err := os.WriteFile(filepath.Join(dir, WorkDirName), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		},
		".pixform/cache links out": func(t *testing.T, dir, outside string) {
			mkdir(t, dir, WorkDirName)
			symlink(t, outside, filepath.Join(dir, WorkDirName, cacheDirName))
		},
		".pixform/staging links out": func(t *testing.T, dir, outside string) {
			mkdir(t, dir, WorkDirName)
			symlink(t, outside, filepath.Join(dir, WorkDirName, stagingDirName))
		},
	}
	for shape, setup := range shapes {
		for use, run := range uses {
			t.Run(shape+"/"+use, func(t *testing.T) {
				parent := t.TempDir()
				dir := filepath.Join(parent, "wd")
				outside := filepath.Join(parent, "outside")
				mkdir(t, parent, "wd")
				mkdir(t, parent, "outside")
				if err := os.WriteFile(filepath.Join(dir, "a.png"), []byte("a"), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "b.png"), []byte("b"), 0o644); err != nil {
					t.Fatal(err)
				}
				setup(t, dir, outside)
				err := run(dir)
				des, _ := os.ReadDir(outside)
				if len(des) != 0 {
					t.Errorf("wrote outside the working directory: %v", des)
				}
				sub := strings.Contains(shape, "/")
				// Users of .pixform itself only must fail on a bad .pixform;
				// users of a subdirectory fail on theirs.
				wantErr := !sub || (strings.Contains(shape, "cache") && use == "Cache.Put") || (strings.Contains(shape, "staging") && use == "Move stages")
				if wantErr {
					var wde *WorkDirError
					if !errors.As(err, &wde) {
						t.Fatalf("err = %v, want a *WorkDirError", err)
					}
					if !strings.Contains(err.Error(), "rebuildable") || !strings.Contains(err.Error(), "remove") {
						t.Errorf("error does not say what to do: %v", err)
					}
				}
			})
		}
	}
}

// A .gitignore or lock that is a link inside a real .pixform is replaced
// or refused, never written through.
func TestWorkDirFilesNotFollowed(t *testing.T) {
	parent := t.TempDir()
	mkdir(t, parent, "wd/"+WorkDirName)
	dir := filepath.Join(parent, "wd")
	victim := filepath.Join(parent, "victim")
	if err := os.WriteFile(victim, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{".gitignore", lockFileName, statCacheName, dirsName, removalsName} {
		symlink(t, victim, filepath.Join(dir, WorkDirName, name))
	}
	if _, err := EnsureWorkDir(dir); err != nil {
		t.Fatal(err)
	}
	if release, err := AcquireDirLock(context.Background(), dir, 0, "test"); err == nil {
		release()
		t.Error("the lock was taken through a link")
	}
	if _, _, err := FinishRemovals(context.Background(), dir, NewLock()); err == nil {
		t.Error("a removal note that is a link was read")
	}
	if got, _ := os.ReadFile(victim); string(got) != "keep" {
		t.Errorf("victim = %q", got)
	}
}

func symlink(t *testing.T, to, at string) {
	t.Helper()
	if err := os.Symlink(to, at); err != nil {
		t.Skip("no symbolic links:", err)
	}
}

// nopJournal records nothing and never fails.
type nopJournal struct{}

func (nopJournal) Record(context.Context, []addrs.Addr, map[addrs.Addr]Entry) error { return nil }
func (nopJournal) Snapshot() *Lock                                                  { return NewLock() }
func (nopJournal) Close() error                                                     { return nil }
