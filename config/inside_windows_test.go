package config

import (
	"os"
	"path/filepath"
	"testing"
)

// fmt writes over a file it holds open: on Windows, which renames over
// no file open without sharing its deletion, its own handle must go
// first, or every pixform fmt fails with a sharing violation.
func TestReplaceOpenFileWindows(t *testing.T) {
	// Not t.TempDir: its RemoveAll fails under wine 8, where this runs.
	dir, err := os.MkdirTemp("", "pixform-fmt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	p := filepath.Join(dir, "main.pix.hcl")
	if err := os.WriteFile(p, []byte("image \"a\" {prompt=\"x\"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := openRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	o, err := r.open("main.pix.hcl", true, true)
	if err != nil {
		t.Fatal(err)
	}
	defer o.close()
	want := "image \"a\" {\n  prompt = \"x\"\n}\n"
	if err := o.replace([]byte(want), "main.pix.hcl"); err != nil {
		t.Fatalf("replace: %v", err)
	}
	if got, err := os.ReadFile(p); err != nil || string(got) != want {
		t.Errorf("main.pix.hcl holds %q, %v; want %q", got, err, want)
	}
}
