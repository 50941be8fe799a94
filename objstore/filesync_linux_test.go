package objstore

import "testing"

// TestBatchableFS: only local file systems whose syncfs(2) writes back
// every file share flushes; network and FUSE ones (whose syncfs does not
// ask the server to flush) sync each file.
func TestBatchableFS(t *testing.T) {
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
		if got := batchableFS(c.magic); got != c.want {
			t.Errorf("batchableFS(%s %#x) = %v, want %v", c.name, c.magic, got, c.want)
		}
	}
}
