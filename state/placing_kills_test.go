package state

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestPlacingKeptAcrossTwoKills: two applies killed in a row. The second
// Begin reads the placing note once; it must still keep the first run's
// paths in the note it writes, and take the first run's unrecorded file
// for its own leftover.
func TestPlacingKeptAcrossTwoKills(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	first := NewStore(dir, NewLock(), &recordingJournal{}, nil)
	if err := first.Begin(ctx, []string{"a.png"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.png"), []byte("left by run 1"), 0o644); err != nil {
		t.Fatal(err)
	}
	second := NewStore(dir, NewLock(), &recordingJournal{}, nil)
	if err := second.Begin(ctx, []string{"b.png"}, nil); err != nil {
		t.Fatal(err)
	}
	if !second.left.noted("a.png") {
		t.Errorf("second Begin does not judge a.png (the first run's leftover): %v", second.left)
	}
	// Killed again: no End.
	left := notedPaths(dir)
	if !left["a.png"] || !left["b.png"] {
		t.Errorf("Leftovers after two kills = %v, want a.png and b.png", left)
	}
}
