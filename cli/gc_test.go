package cli

import (
	"os"
	"path/filepath"
	"testing"
)

func TestGCPercentFor(t *testing.T) {
	tests := map[string]struct {
		args []string
		want int // 0: keep the default
	}{
		"plan":           {args: []string{"plan"}, want: 400},
		"validate":       {args: []string{"validate", "-json"}, want: 400},
		"global options": {args: []string{"-chdir=x", "-no-color", "plan", "-out=p"}, want: 400},
		"apply":          {args: []string{"apply", "-auto-approve"}},
		"watch":          {args: []string{"-chdir=plan", "watch"}},
		"plan as an arg": {args: []string{"show", "plan"}},
		"no command":     {args: nil},
		"only an option": {args: []string{"-version"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := GCPercentFor(tc.args)
			if tc.want == 0 {
				if ok {
					t.Errorf("GCPercentFor(%q) = %d; want the default", tc.args, got)
				}
				return
			}
			if !ok || got != tc.want {
				t.Errorf("GCPercentFor(%q) = %d, %v; want %d", tc.args, got, ok, tc.want)
			}
		})
	}
}

// TestGCPercentForLargeDir: plan in a -chdir directory whose configuration
// is large collects more often than the small default.
func TestGCPercentForLargeDir(t *testing.T) {
	dir := t.TempDir()
	big := make([]byte, 9<<20)
	for i := range big {
		big[i] = '#'
		if i%80 == 79 {
			big[i] = '\n'
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "big.pix.hcl"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, ok := GCPercentFor([]string{"-chdir=" + dir, "plan"}); !ok || got != 50 {
		t.Errorf("GCPercentFor(large dir) = %d, %v; want 50", got, ok)
	}
	if got, _ := GCPercentFor([]string{"plan"}); got != 400 {
		t.Errorf("GCPercentFor(small dir) = %d; want 400", got)
	}
}
