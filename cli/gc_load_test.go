package cli

import (
	"testing"

	"github.com/pixform/pixform/bench/workload"
)

// TestLoadGCPercent: a small configuration collects less often; one that
// config.Large reports collects more often, which bounds its peak.
func TestLoadGCPercent(t *testing.T) {
	for _, tc := range []struct {
		images int
		want   int
	}{
		{2000, -1},
		{60000, 50}, // about 10 MB of image blocks
	} {
		dir := t.TempDir()
		if err := workload.WriteConfig(dir, workload.Blocks, tc.images); err != nil {
			t.Fatal(err)
		}
		if got, _ := GCPercentFor([]string{"-chdir=" + dir, "plan"}); got != tc.want {
			t.Errorf("%d images: loadGCPercent = %d, want %d", tc.images, got, tc.want)
		}
	}
}
