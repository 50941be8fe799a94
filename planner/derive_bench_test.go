package planner

import (
	"fmt"
	"testing"
)

// BenchmarkDiffDerived is BenchmarkDiff's fresh plan with every other
// image made from the one before it (an upscale): the graph must keep the
// planner linear.
func BenchmarkDiffDerived(b *testing.B) {
	for _, n := range []int{2000, 20000} {
		b.Run(fmt.Sprintf("fresh/%d", n), func(b *testing.B) {
			in := benchInput(n, true)
			for i := 1; i < n; i += 2 {
				img := &in.Images[i]
				img.From, img.Operation = in.Images[i-1].Addr, "upscale"
				img.Prompt, img.Style, img.AspectRatio = "", "", ""
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, diags := Diff(in); diags.HasErrors() {
					b.Fatal(diags)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/image")
		})
	}
}
