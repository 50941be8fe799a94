package workload

import (
	"path/filepath"
	"testing"

	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

func TestWriteConfigAndApplied(t *testing.T) {
	tests := map[string]struct {
		shape   Shape
		n       int
		perFile int
	}{
		"blocks one file":    {Blocks, 7, BlocksPerFile},
		"blocks three files": {Blocks, 9, 4},
		"blocks exact files": {Blocks, 8, 4},
		"for_each":           {ForEach, 11, BlocksPerFile},
		"for_each one item":  {ForEach, 1, BlocksPerFile},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := writeConfig(dir, tc.shape, tc.n, tc.perFile); err != nil {
				t.Fatal(err)
			}
			cfg, diags := config.Load(dir, config.LoadOptions{})
			if diags.HasErrors() {
				t.Fatalf("Load: %s", diags.Error())
			}
			if len(cfg.Images) != tc.n {
				t.Fatalf("loaded %d images, want %d", len(cfg.Images), tc.n)
			}
			got, err := WriteApplied(dir)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.n {
				t.Fatalf("WriteApplied wrote %d images, want %d", got, tc.n)
			}
			lock, err := state.ReadLock(filepath.Join(dir, state.LockFileName))
			if err != nil {
				t.Fatal(err)
			}
			sf, err := state.Refresh(dir, lock, true)
			if err != nil {
				t.Fatal(err)
			}
			facts := map[string]planner.FileFact{}
			for p, f := range sf {
				facts[p] = planner.FileFact{Exists: f.Exists, SHA256: f.SHA256}
			}
			plan, diags := planner.Diff(planner.Input{
				Images: cfg.Images, Lock: lock, Facts: facts, Provider: providers.Imagine,
				NewSeed: func() int64 { t.Error("a no-op plan picked a seed"); return 1 },
			})
			if diags.HasErrors() {
				t.Fatalf("Diff: %s", diags.Error())
			}
			if plan.HasChanges() || plan.Summary.NoOp != tc.n {
				t.Errorf("plan summary = %+v, want %d no-ops and no changes", plan.Summary, tc.n)
			}
		})
	}
}

func TestWriteConfigUnknownShape(t *testing.T) {
	if err := WriteConfig(t.TempDir(), Shape("spiral"), 3); err == nil {
		t.Fatal("WriteConfig accepted an unknown shape")
	}
}

func TestTinyPNGDiffers(t *testing.T) {
	tests := map[string]struct{ a, b int }{
		"low byte":  {0, 1},
		"high byte": {1, 1 << 8},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if string(TinyPNG(tc.a)) == string(TinyPNG(tc.b)) {
				t.Errorf("TinyPNG(%d) == TinyPNG(%d)", tc.a, tc.b)
			}
		})
	}
}
