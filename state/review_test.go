package state

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pixform/pixform/addrs"
)

// TestAnnotateAll: approvals of many images are one lockfile write; the
// first image whose file changed stops them, those before it recorded,
// it and those after not; an entry that is not the one read is refused.
func TestAnnotateAll(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	for name, tc := range map[string]struct {
		change func(dir string, as []Annotation) []Annotation
		n      int
		err    func(error) bool
	}{
		"all": {n: 4},
		"third edited": {n: 2, change: func(dir string, as []Annotation) []Annotation {
			os.WriteFile(filepath.Join(dir, "img2.png"), []byte("edited"), 0o644)
			return as
		}, err: func(err error) bool { var fc *FileChangedError; return errors.As(err, &fc) && !fc.Missing }},
		"second missing": {n: 1, change: func(dir string, as []Annotation) []Annotation {
			os.Remove(filepath.Join(dir, "img1.png"))
			return as
		}, err: func(err error) bool { var fc *FileChangedError; return errors.As(err, &fc) && fc.Missing }},
		"first not as read": {n: 0, change: func(dir string, as []Annotation) []Annotation {
			as[0].Was.Width++
			return as
		}, err: func(err error) bool { return err != nil }},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			lock := NewLock()
			var as []Annotation
			for i := range 4 {
				e := entryN(i)
				e.Path = fmt.Sprintf("img%d.png", i)
				content := fmt.Sprintf("image %d", i)
				e.SHA256 = sumOf(content)
				if err := os.WriteFile(filepath.Join(dir, e.Path), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
				a := addrs.MustParse(fmt.Sprintf("image.i%d", i))
				lock.Images[a] = e
				as = append(as, Annotation{Addr: a, Was: e, Entry: e.Approve("ann", now)})
			}
			if err := os.WriteFile(filepath.Join(dir, LockFileName), lock.Marshal(), 0o644); err != nil {
				t.Fatal(err)
			}
			j := &countingJournal{Journal: NewRecorder(filepath.Join(dir, LockFileName), lock)}
			s := NewStore(dir, lock, j, nil)
			if tc.change != nil {
				as = tc.change(dir, as)
			}
			n, err := s.AnnotateAll(context.Background(), as)
			if cerr := s.Close(context.Background()); cerr != nil {
				t.Fatal(cerr)
			}
			if n != tc.n || (tc.err == nil) != (err == nil) || (tc.err != nil && !tc.err(err)) {
				t.Fatalf("AnnotateAll = %d, %v; want %d", n, err, tc.n)
			}
			if want := min(tc.n, 1); j.writes != want {
				t.Errorf("%d lockfile writes, want %d", j.writes, want)
			}
			got, err := ReadLock(filepath.Join(dir, LockFileName))
			if err != nil {
				t.Fatal(err)
			}
			for i, a := range as {
				if approved := got.Images[a.Addr].Approved != nil; approved != (i < tc.n) {
					t.Errorf("%s approved %v, want %v", a.Addr, approved, i < tc.n)
				}
			}
		})
	}
}
