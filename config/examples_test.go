package config

import (
	"os"
	"path/filepath"
	"testing"
)

// TestExamples loads every directory under ../examples that holds
// configuration files: each must load without a single diagnostic and
// declare some images. (Other directories, such as a CI recipe, are not
// configurations.)
func TestExamples(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("..", "examples", "*"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, dir := range dirs {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			continue
		}
		if confs, _ := filepath.Glob(filepath.Join(dir, "*"+ConfigSuffix)); len(confs) == 0 {
			continue
		}
		n++
		t.Run(filepath.Base(dir), func(t *testing.T) {
			cfg, diags := Load(dir, LoadOptions{})
			if len(diags) > 0 {
				t.Fatalf("diagnostics:%s", render(diags))
			}
			if len(cfg.Images) == 0 {
				t.Error("no images declared")
			}
			for _, img := range cfg.Images {
				if img.Prompt == "" && !img.Derived() || img.Path == "" {
					t.Errorf("%s: empty prompt or path", img.Addr)
				}
			}
		})
	}
	if n < 2 {
		t.Errorf("found %d example directories, want at least 2", n)
	}
}
