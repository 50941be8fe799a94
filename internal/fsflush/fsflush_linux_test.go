package fsflush

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestCoversMagic: only local file systems whose syncfs(2) writes back
// every file are covered by one flush; network and FUSE ones (whose syncfs does not
// ask the server to flush) sync each file.
func TestCoversMagic(t *testing.T) {
	for _, c := range []struct {
		name  string
		magic int64
		want  bool
	}{
		{"ext4", 0xEF53, true},
		{"xfs", 0x58465342, true},
		{"btrfs", 0x9123683E, true},
		{"f2fs", 0xF2F52010, true},
		{"tmpfs", 0x01021994, true},
		{"nfs", 0x6969, false},
		{"cifs", 0xFF534D42, false},
		{"smb2", 0xFE534D42, false},
		{"fuse", 0x65735546, false},
		{"overlayfs", 0x794C7630, false},
		{"9p", 0x01021997, false},
		{"ceph", 0x00C36400, false},
		{"unknown", 0, false},
	} {
		if got := coversMagic(c.magic); got != c.want {
			t.Errorf("coversMagic(%s %#x) = %v, want %v", c.name, c.magic, got, c.want)
		}
	}
}

// TestCovers: the test's own directory (ext4 or tmpfs here) is asked
// through a descriptor and a path alike, and a path that is not there is
// not covered.
func TestCovers(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	want := coversMagic(int64(st.Type))
	if got := Covers(int(f.Fd())); got != want {
		t.Errorf("Covers(%s) = %v, want %v (magic %#x)", dir, got, want, st.Type)
	}
	if got := CoversPath(dir); got != want {
		t.Errorf("CoversPath(%s) = %v, want %v", dir, got, want)
	}
	if CoversPath(filepath.Join(dir, "missing")) {
		t.Errorf("CoversPath of a missing path = true, want false")
	}
	if Covers(-1) {
		t.Errorf("Covers(-1) = true, want false")
	}
}
