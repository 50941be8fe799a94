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
