package state

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUploaded(t *testing.T) {
	dir := t.TempDir()
	a, b := strings.Repeat("a", 64), strings.Repeat("b", 64)
	u, err := OpenUploaded(dir, "s3://x/y")
	if err != nil || u.Has(a) {
		t.Fatalf("fresh note: %v, has %v", err, u.Has(a))
	}
	if err := u.Add(dir, a, "not-a-sum", a); err != nil {
		t.Fatal(err)
	}
	u.Close()
	// A line that a kill cut short is skipped.
	f, err := os.OpenFile(u.path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(b[:30])
	f.Close()
	u, err = OpenUploaded(dir, "s3://x/y")
	if err != nil || !u.Has(a) || u.Has(b) || u.Len() != 1 {
		t.Fatalf("reopened: %v, has a %v, has b %v, len %d", err, u.Has(a), u.Has(b), u.Len())
	}
	if err := u.Add(dir, b); err != nil {
		t.Fatal(err)
	}
	u.Close()
	u, _ = OpenUploaded(dir, "s3://x/y")
	if !u.Has(b) {
		t.Error("an Add after a cut line was lost")
	}
	// Another store's note is another file.
	o, _ := OpenUploaded(dir, "s3://x/z")
	if o.Has(a) {
		t.Error("the note of one store answered for another")
	}
	if _, err := os.Stat(filepath.Join(dir, WorkDirName, ".gitignore")); err != nil {
		t.Errorf(".pixform/.gitignore: %v", err)
	}
}

// Forget rewrites the note without the objects the store no longer
// holds; the note stays appendable after it.
func TestUploadedForget(t *testing.T) {
	dir := t.TempDir()
	a, b, c := strings.Repeat("a", 64), strings.Repeat("b", 64), strings.Repeat("c", 64)
	u, err := OpenUploaded(dir, "s3://x/y")
	if err != nil {
		t.Fatal(err)
	}
	if err := u.Add(dir, a, b); err != nil {
		t.Fatal(err)
	}
	if err := u.Forget(dir, a, c); err != nil {
		t.Fatal(err)
	}
	if u.Has(a) || !u.Has(b) {
		t.Fatalf("after Forget: has a %v, has b %v", u.Has(a), u.Has(b))
	}
	if err := u.Add(dir, c); err != nil {
		t.Fatal(err)
	}
	u.Close()
	u, err = OpenUploaded(dir, "s3://x/y")
	if err != nil || u.Has(a) || !u.Has(b) || !u.Has(c) || u.Len() != 2 {
		t.Fatalf("reopened: %v, has a %v b %v c %v, len %d", err, u.Has(a), u.Has(b), u.Has(c), u.Len())
	}
}
