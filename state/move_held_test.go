package state

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/pixform/pixform/addrs"
)

// A move to the path another move leaves waits for it, and fails with a
// *HeldError naming it when it fails: in a chain (b's move refused by
// someone's file at its new path) and in a cycle (a and b swap paths, and
// b's file was changed since the plan). Every file stays as it was,
// nothing is recorded, and no staged copy is left behind.
func TestStoreMoveHeldByAFailedMove(t *testing.T) {
	tests := map[string]struct {
		bTo     string            // b's new path
		files   map[string]string // on disk before the moves, beside a.png and b.png
		bEdited bool              // b.png no longer holds its recorded bytes
		bErr    func(error) bool
	}{
		"chain": {bTo: "c.png", files: map[string]string{"c.png": "my own picture"},
			bErr: func(err error) bool { var oe *OccupiedError; return errors.As(err, &oe) }},
		"cycle": {bTo: "a.png", bEdited: true,
			bErr: func(err error) bool { return err != nil }},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			ctx := context.Background()
			lock := NewLock()
			entries := map[string]Entry{}
			want := map[string]string{}
			for i, n := range []string{"a", "b"} {
				data := "the image of " + n
				sum := sha256.Sum256([]byte(data))
				e := entryN(i + 1)
				e.Path, e.SHA256, e.Bytes = n+".png", hex.EncodeToString(sum[:]), int64(len(data))
				lock.Images[addrs.MustParse("image."+n)] = e
				entries[n] = e
				if n == "b" && tc.bEdited {
					data = "b, edited by hand"
				}
				want[n+".png"] = data
			}
			for p, data := range tc.files {
				want[p] = data
			}
			for p, data := range want {
				if err := os.WriteFile(filepath.Join(dir, p), []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			j := &recordingJournal{}
			s := NewStore(dir, lock, j, nil)
			defer s.Close(ctx)
			if err := s.Begin(ctx, []string{"b.png", tc.bTo}, []Removal{{Path: "a.png", SHA256: entries["a"].SHA256}, {Path: "b.png", SHA256: entries["b"].SHA256}}); err != nil {
				t.Fatal(err)
			}
			a, b := addrs.MustParse("image.a"), addrs.MustParse("image.b")
			errs := make([]error, 2)
			s.Move(ctx, []Move{
				{From: Prior{Addr: a, Entry: entries["a"]}, To: a, Path: "b.png"},
				{From: Prior{Addr: b, Entry: entries["b"]}, To: b, Path: tc.bTo},
			}, func(i int, err error, skipped bool) { errs[i] = err })
			if !tc.bErr(errs[1]) {
				t.Errorf("b's move: %v", errs[1])
			}
			var he *HeldError
			if !errors.As(errs[0], &he) || he.Path != "b.png" || he.Holder != b {
				t.Errorf("a's move: %v, want a *HeldError naming b.png and image.b", errs[0])
			}
			for p, data := range want {
				if got, err := os.ReadFile(filepath.Join(dir, p)); err != nil || string(got) != data {
					t.Errorf("%s holds %q (%v), want %q", p, got, err, data)
				}
			}
			if len(j.recorded) != 0 {
				t.Errorf("recorded %v", j.recorded)
			}
			if des, _ := os.ReadDir(filepath.Join(dir, WorkDirName, stagingDirName)); len(des) != 0 {
				t.Errorf("staged copies left: %v", des)
			}
			noTemps(t, dir)
		})
	}
}
