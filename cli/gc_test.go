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
		"plan":           {args: []string{"plan"}, want: -1},
		"validate":       {args: []string{"validate", "-json"}, want: -1},
		"global options": {args: []string{"-chdir=x", "-no-color", "plan", "-out=p"}, want: -1},
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
	if got, _ := GCPercentFor([]string{"plan"}); got != -1 {
		t.Errorf("GCPercentFor(small dir) = %d; want -1 (off)", got)
	}
}

// TestGCPercentForManyImages: a directory that holds many images (a large
// lockfile, or a configuration that declares many) makes apply collect
// more often, to bound its peak memory, and plan collect under a memory
// limit made for its lockfile (or at 50 for a large configuration); a
// small one keeps plan's -1 (off, under a fixed memory limit) and apply's
// default.
func TestGCPercentForManyImages(t *testing.T) {
	write := func(t *testing.T, dir, name string, n int) {
		t.Helper()
		b := make([]byte, n)
		for i := range b {
			b[i] = '#'
			if i%80 == 79 {
				b[i] = '\n'
			}
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := map[string]struct {
		files map[string]int // name → size
		plan  int
		limit int64 // plan's memory limit; 0: none
		apply int   // 0: the default
	}{
		"empty":             {plan: -1, limit: loadMemoryLimit},
		"small":             {files: map[string]int{"a.pix.hcl": 10 << 10, "pixform.lock.json": 100 << 10}, plan: -1, limit: loadMemoryLimit},
		"large lockfile":    {files: map[string]int{"a.pix.hcl": 10 << 10, "pixform.lock.json": 2 << 20}, plan: -1, limit: 7*(2<<20) + 24*(10<<10) + 4<<20, apply: 50},
		"many for_each":     {files: map[string]int{"a.pix.hcl": 300 << 10}, plan: -1, limit: loadMemoryLimit, apply: 50},
		"other files":       {files: map[string]int{"notes.txt": 2 << 20, "a.pix.hcl.bak": 2 << 20}, plan: -1, limit: loadMemoryLimit},
		"large config wins": {files: map[string]int{"a.pix.hcl": 9 << 20, "pixform.lock.json": 2 << 20}, plan: 50, apply: 50},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for f, n := range tc.files {
				write(t, dir, f, n)
			}
			if got, ok := GCPercentFor([]string{"-chdir=" + dir, "plan"}); !ok || got != tc.plan {
				t.Errorf("plan: GCPercentFor = %d, %v; want %d", got, ok, tc.plan)
			}
			if got, ok := MemoryLimitFor([]string{"-chdir=" + dir, "plan"}); got != tc.limit || ok != (tc.limit != 0) {
				t.Errorf("plan: MemoryLimitFor = %d, %v; want %d", got, ok, tc.limit)
			}
			if got, ok := MemoryLimitFor([]string{"-chdir=" + dir, "apply"}); ok {
				t.Errorf("apply: MemoryLimitFor = %d; want none", got)
			}
			got, ok := GCPercentFor([]string{"-chdir=" + dir, "-no-color", "apply", "-auto-approve"})
			switch {
			case tc.apply == 0 && ok:
				t.Errorf("apply: GCPercentFor = %d; want the default", got)
			case tc.apply != 0 && (!ok || got != tc.apply):
				t.Errorf("apply: GCPercentFor = %d, %v; want %d", got, ok, tc.apply)
			}
		})
	}
}

// TestMemoryLimitFor: a command that collects no garbage runs under a
// memory limit; the others keep the runtime's (none).
func TestMemoryLimitFor(t *testing.T) {
	for _, args := range [][]string{{"plan"}, {"validate"}, {"-chdir=x", "plan", "-out=p"}} {
		if limit, ok := MemoryLimitFor(args); !ok || limit != loadMemoryLimit {
			t.Errorf("MemoryLimitFor(%q) = %d, %v; want %d", args, limit, ok, loadMemoryLimit)
		}
	}
	for _, args := range [][]string{{"apply"}, {"watch"}, {"show", "plan"}, nil} {
		if limit, ok := MemoryLimitFor(args); ok {
			t.Errorf("MemoryLimitFor(%q) = %d; want none", args, limit)
		}
	}
}

// TestLoadAllocatesLittle: a configuration of image blocks (an eighth of
// its lockfile or more) has its lockfile read while it loads; one that
// repeats a few blocks over a large lockfile does not.
func TestLoadAllocatesLittle(t *testing.T) {
	for _, tc := range []struct {
		sz   dirSizes
		want bool
	}{
		{dirSizes{config: 1750 << 10, lock: 4470 << 10}, true}, // 10,000 blocks
		{dirSizes{config: 300 << 10, lock: 4470 << 10}, false}, // a for_each of 10,000
		{dirSizes{config: 10 << 10}, true},                     // no lockfile
		{dirSizes{config: 1 << 20, lock: 8 << 20}, true},
		{dirSizes{config: 1<<20 - 1, lock: 8 << 20}, false},
	} {
		if got := tc.sz.loadAllocatesLittle(); got != tc.want {
			t.Errorf("%+v: %v, want %v", tc.sz, got, tc.want)
		}
	}
}
