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

// A note that is not this checkout's (committed in a pull request, copied
// from another checkout, or an older pixform's, with no tie) is ignored:
// plan -check asks the store about its objects. The first Add writes the
// note anew, tied, with only the objects known here.
func TestUploadedForeign(t *testing.T) {
	a, b := strings.Repeat("a", 64), strings.Repeat("b", 64)
	other := t.TempDir()
	u, err := OpenUploaded(other, "s3://x/y")
	if err != nil {
		t.Fatal(err)
	}
	if err := u.Add(other, a); err != nil {
		t.Fatal(err)
	}
	u.Close()
	theirs, err := os.ReadFile(u.path)
	if err != nil {
		t.Fatal(err)
	}
	for name, note := range map[string][]byte{
		"another checkout's": theirs,
		"untied":             []byte(a + "\n"),
		"a forged tie":       []byte("pixform uploaded 1 1 2\n" + a + "\n"),
		"a cut tie":          theirs[:10],
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, WorkDirName, storeDirName), 0o755); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, WorkDirName, storeDirName, filepath.Base(u.path))
			if err := os.WriteFile(p, note, 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := OpenUploaded(dir, "s3://x/y")
			if err != nil || f.Has(a) || f.Len() != 0 {
				t.Fatalf("a foreign note was read: %v, has %v, len %d", err, f.Has(a), f.Len())
			}
			if err := f.Add(dir, b); err != nil {
				t.Fatal(err)
			}
			f.Close()
			g, err := OpenUploaded(dir, "s3://x/y")
			if err != nil || !g.Has(b) || g.Has(a) || g.Len() != 1 {
				t.Fatalf("the note written again: %v, has b %v, has a %v, len %d", err, g.Has(b), g.Has(a), g.Len())
			}
			// Appended to, it stays this checkout's.
			if err := g.Add(dir, a); err != nil {
				t.Fatal(err)
			}
			g.Close()
			if h, _ := OpenUploaded(dir, "s3://x/y"); !h.Has(a) || !h.Has(b) {
				t.Fatal("an Add to this checkout's note was lost")
			}
		})
	}
}
