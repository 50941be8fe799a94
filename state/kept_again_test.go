package state

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/pixform/pixform/addrs"
)

// A file Begin keeps (the user's edit at a path an
// interrupted apply was placing at) must stay the user's in every later
// run, not only in the run that kept it. Run 2 keeps it and warns; run 2
// is then interrupted (Ctrl-C: End returns before clearPlacing); run 3
// places image.a at b.png.
func TestKeptLeftoverStaysKeptAfterASecondInterruption(t *testing.T) {
	for _, how := range []string{"cancelled", "killed"} {
		t.Run(how, func(t *testing.T) {
			ctx := context.Background()
			dir, lock, eb, bPath, _ := imageBRecorded(t)
			b := addrs.MustParse("image.b")
			// Run 1: image.b moves to c.png, image.a takes b.png; killed.
			s := NewStore(dir, lock, &opsJournal{lock: lock}, nil)
			if err := s.Begin(ctx, []string{"b.png", "c.png"}, []Removal{{Path: "b.png", SHA256: eb.SHA256}}); err != nil {
				t.Fatal(err)
			}
			eb.Path = "c.png"
			lock.Images[b] = eb
			// The user edits b.png.
			mine := []byte("my own edit")
			if err := os.WriteFile(bPath, mine, 0o644); err != nil {
				t.Fatal(err)
			}

			// Run 2: keeps b.png, warns; interrupted before image.a.
			var warned []string
			s2 := NewStore(dir, lock, &opsJournal{lock: lock}, nil)
			s2.Warn = func(path, msg string) { warned = append(warned, msg) }
			ctx2, cancel := context.WithCancel(ctx)
			if err := s2.Begin(ctx2, []string{"b.png"}, nil); err != nil {
				t.Fatal(err)
			}
			if len(warned) != 1 {
				t.Fatalf("run 2 warnings %q, want one", warned)
			}
			cancel()
			if how == "cancelled" {
				s2.End(ctx2)
				s2.Close(ctx2)
			}

			// Run 3: image.a at b.png.
			err := commitAAtB(t, ctx, dir, lock)
			var oe *OccupiedError
			if !errors.As(err, &oe) {
				t.Errorf("run 3 Commit = %v, want an *OccupiedError", err)
			}
			if got, _ := os.ReadFile(bPath); string(got) != string(mine) {
				t.Errorf("b.png holds %q, want the user's %q that run 2 said it kept (%q)", got, mine, warned)
			}
		})
	}
}
