package scripttest

import (
	"image"
	"os"

	"github.com/rogpeppe/go-internal/testscript"
)

// deriveCmds are the test script commands of the derive_*.txtar scripts:
//
//	imgalpha FILE     the image at FILE has a transparent or translucent
//	                  pixel (! imgalpha: every pixel is opaque)
func deriveCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"imgalpha": cmdImgalpha,
	}
}

func cmdImgalpha(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: imgalpha FILE")
	}
	f, err := os.Open(ts.MkAbs(args[0]))
	ts.Check(err)
	defer f.Close()
	img, _, err := image.Decode(f)
	ts.Check(err)
	found := false
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y && !found; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if _, _, _, a := img.At(x, y).RGBA(); a < 0xffff {
				found = true
				break
			}
		}
	}
	if found == neg {
		ts.Fatalf("imgalpha %s: transparent pixel found = %v", args[0], found)
	}
}
