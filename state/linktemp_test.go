//go:build linux

package state

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// A temporary file is linked into the content cache (LinkTemp, as Keep
// does) after its directory was moved outside the working directory and
// replaced by a symbolic link to another directory, which holds a file of
// the temporary file's very name: the cache gets the temporary file's own
// bytes, never that other file's, named or unnamed, and the other file
// stays. The file is then given up where it was made.
func TestLinkTempAfterDirSwappedForLink(t *testing.T) {
	for _, named := range []bool{true, false} {
		name := "unnamed"
		if named {
			name = "named"
		}
		t.Run(name, func(t *testing.T) {
			m := newMovingOut(t)
			if !named {
				m.s = NewStore(m.dir, NewLock(), &recordingJournal{}, nil)
				t.Cleanup(func() { m.s.Close(context.Background()) })
			}
			other := filepath.Join(filepath.Dir(m.dir), "other")
			if err := os.Mkdir(other, 0o755); err != nil {
				t.Fatal(err)
			}
			f := m.create(t, "out/a.png", "ours")
			theirs := filepath.Join(other, filepath.Base(f.Name()))
			if err := os.WriteFile(theirs, []byte("not pixform's"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(m.out, m.archive); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(other, m.out); err != nil {
				t.Fatal(err)
			}
			kept := filepath.Join(m.dir, "kept.png")
			if err := LinkTemp(f, kept); err != nil {
				t.Fatalf("LinkTemp: %v", err)
			}
			m.s.AbortTemp(f)
			if b, err := os.ReadFile(kept); err != nil || string(b) != "ours" {
				t.Errorf("LinkTemp linked %q, want the temporary file's own bytes: %v", b, err)
			}
			if b, err := os.ReadFile(theirs); err != nil || string(b) != "not pixform's" {
				t.Errorf("%s, not pixform's, was removed or changed: %q, %v", theirs, b, err)
			}
			m.noTemps(t)
		})
	}
}
