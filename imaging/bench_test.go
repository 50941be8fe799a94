package imaging

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"testing"

	"golang.org/x/image/draw"
)

// stripes is a w×h image of one-pixel black and white columns: any
// downscale of it should be an even grey, and the spread of the result's
// grey levels measures a kernel's aliasing.
func stripes(w, h int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := uint8(0)
			if x%2 == 0 {
				v = 255
			}
			m.SetNRGBA(x, y, color.NRGBA{v, v, v, 255})
		}
	}
	return m
}

// spread is the largest distance of a grey level of m from 127.5.
func spread(m image.Image) float64 {
	worst := 0.0
	b := m.Bounds()
	for x := b.Min.X; x < b.Max.X; x++ {
		r, _, _, _ := m.At(x, b.Min.Y).RGBA()
		worst = math.Max(worst, math.Abs(float64(r>>8)-127.5))
	}
	return worst
}

// BenchmarkKernels measures each candidate kernel on a 2048×1152 to
// 640×360 downscale and a 512×512 to 1024×1024 upscale, and reports the
// aliasing of a 3.2× downscale of one-pixel stripes (0: an even grey; 127:
// stripes kept as black and white).
//
//	go test -run=^$ -bench=Kernels -benchtime=20x ./imaging
func BenchmarkKernels(b *testing.B) {
	kernels := map[string]draw.Interpolator{
		"CatmullRom": draw.CatmullRom, "ApproxBiLinear": draw.ApproxBiLinear, "BiLinear": draw.BiLinear,
	}
	big, small, lines := gradient(2048, 1152), gradient(512, 512), stripes(2048, 8)
	for _, name := range []string{"CatmullRom", "BiLinear", "ApproxBiLinear"} {
		k := kernels[name]
		alias := image.NewNRGBA(image.Rect(0, 0, 640, 2))
		k.Scale(alias, alias.Bounds(), lines, lines.Bounds(), draw.Src, nil)
		for _, c := range []struct {
			what string
			src  image.Image
			w, h int
		}{{"down", big, 640, 360}, {"up", small, 1024, 1024}} {
			b.Run(fmt.Sprintf("%s/%s", name, c.what), func(b *testing.B) {
				out := image.NewNRGBA(image.Rect(0, 0, c.w, c.h))
				for b.Loop() {
					k.Scale(out, out.Bounds(), c.src, c.src.Bounds(), draw.Src, nil)
				}
				b.ReportMetric(spread(alias), "alias")
			})
		}
	}
}
