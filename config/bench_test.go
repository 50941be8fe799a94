package config_test

import (
	"fmt"
	"testing"

	"github.com/pixform/pixform/bench/workload"
	"github.com/pixform/pixform/config"
)

// BenchmarkLoad loads the benchmark workloads: image blocks over several
// files, and one block with for_each over a map.
func BenchmarkLoad(b *testing.B) {
	for _, shape := range workload.Shapes {
		for _, n := range []int{2000, 20000} {
			b.Run(fmt.Sprintf("%s/%d", shape, n), func(b *testing.B) {
				dir := b.TempDir()
				if err := workload.WriteConfig(dir, shape, n); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for b.Loop() {
					cfg, diags := config.Load(dir, config.LoadOptions{})
					if diags.HasErrors() {
						b.Fatal(diags.Error())
					}
					if len(cfg.Images) != n {
						b.Fatalf("got %d images, want %d", len(cfg.Images), n)
					}
				}
			})
		}
	}
}

// BenchmarkLoadApplied loads 10,000 images whose files are on disk,
// without a Stats from the caller (as apply PLANFILE does): every image
// path's lstat.
func BenchmarkLoadApplied(b *testing.B) {
	for _, shape := range workload.Shapes {
		b.Run(fmt.Sprintf("%s/10000", shape), func(b *testing.B) {
			dir := b.TempDir()
			if err := workload.WriteConfig(dir, shape, 10000); err != nil {
				b.Fatal(err)
			}
			if _, err := workload.WriteApplied(dir); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				cfg, diags := config.Load(dir, config.LoadOptions{})
				if diags.HasErrors() {
					b.Fatal(diags.Error())
				}
				if len(cfg.Images) != 10000 {
					b.Fatalf("got %d images", len(cfg.Images))
				}
			}
		})
	}
}
