package safepath

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// A junction (a mount point, which mklink /J makes without privilege) is
// a link like any other: a path through one is refused. Go since 1.23
// reports a junction as neither a link nor a directory unless GODEBUG has
// winsymlink=0, which go.mod sets for every pixform binary and test.
func TestDiskRefusesJunction(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	junction := filepath.Join(root, "out")
	if out, err := exec.Command("cmd", "/c", "mklink", "/J", junction, outside).CombinedOutput(); err != nil {
		t.Skipf("mklink /J: %v: %s", err, out)
	}
	p, err := syscall.UTF16PtrFromString(junction)
	if err != nil {
		t.Fatal(err)
	}
	if attrs, err := syscall.GetFileAttributes(p); err != nil || attrs&syscall.FILE_ATTRIBUTE_REPARSE_POINT == 0 {
		t.Skipf("mklink /J made no reparse point (%#x, %v)", attrs, err)
	}
	if err := os.WriteFile(filepath.Join(outside, "victim.png"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"out/victim.png", "out"} {
		_, err := NewDisk(root).Check(rel)
		var e *Error
		if !errors.As(err, &e) || e.Reason != Symlink || e.Link != "out" {
			t.Errorf("Check(%q) through a junction = %v, want a Symlink error at out", rel, err)
		}
	}
}
