package config_test

import (
	"runtime"
	"testing"

	"github.com/pixform/pixform/bench/workload"
	"github.com/pixform/pixform/config"
)

// BenchmarkLoadMemory reports the heap a loaded configuration holds, per
// image (heap in use after a collection, with the Config alive, less the
// heap before Load), for both workload shapes.
func BenchmarkLoadMemory(b *testing.B) {
	for _, shape := range workload.Shapes {
		b.Run(string(shape), func(b *testing.B) {
			const n = 50000
			dir := b.TempDir()
			if err := workload.WriteConfig(dir, shape, n); err != nil {
				b.Fatal(err)
			}
			var perImage float64
			for b.Loop() {
				perImage = heapPerImage(b, dir, n)
			}
			b.ReportMetric(perImage, "heap-B/image")
		})
	}
}

// heapPerImage loads dir and returns the heap the Config holds, per image.
func heapPerImage(tb testing.TB, dir string, n int) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	cfg, diags := config.Load(dir, config.LoadOptions{})
	if diags.HasErrors() {
		tb.Fatal(diags.Error())
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if len(cfg.Images) != n {
		tb.Fatalf("got %d images, want %d", len(cfg.Images), n)
	}
	runtime.KeepAlive(cfg)
	return float64(int64(after.HeapInuse)-int64(before.HeapInuse)) / float64(n)
}
