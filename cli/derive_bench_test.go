package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeDerived writes a configuration of n images, half of them derived:
// n/2 text-to-image blocks, each with an upscale (every other one) or a
// local resize made from it, over files of 1,000 blocks.
func writeDerived(b *testing.B, dir string, n int) {
	b.Helper()
	var sb strings.Builder
	file := 0
	flush := func() {
		name := filepath.Join(dir, fmt.Sprintf("images-%03d.pix.hcl", file))
		if err := os.WriteFile(name, []byte(sb.String()), 0o644); err != nil {
			b.Fatal(err)
		}
		sb.Reset()
		file++
	}
	for i := 0; i < n/2; i++ {
		fmt.Fprintf(&sb, "image \"view_%d\" {\n  prompt       = \"a futuristic city at night, neon lights, view number %d\"\n  aspect_ratio = \"16:9\"\n  style        = \"flux-schnell\"\n  seed         = %d\n}\n\n", i, i, i+1)
		if i%2 == 0 {
			fmt.Fprintf(&sb, "image \"view_%d_2x\" {\n  from      = image.view_%d\n  operation = \"upscale\"\n}\n\n", i, i)
		} else {
			fmt.Fprintf(&sb, "image \"view_%d_small\" {\n  from   = image.view_%d\n  resize = { width = 640 }\n  path   = \"small/view-%d.jpg\"\n}\n\n", i, i, i)
		}
		if (i+1)%500 == 0 {
			flush()
		}
	}
	if sb.Len() > 0 {
		flush()
	}
}

// BenchmarkPlanDerived measures the whole fresh plan of n images of which
// half are made from the other half (target: 20,000 in under 1 s, as a
// plan without derived images).
func BenchmarkPlanDerived(b *testing.B) {
	for _, n := range []int{2000, 20000} {
		b.Run(fmt.Sprintf("fresh/%d", n), func(b *testing.B) {
			dir := b.TempDir()
			writeDerived(b, dir, n)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				runPlan(b, dir, ExitChanges, "-detailed-exitcode")
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/image")
		})
	}
}
