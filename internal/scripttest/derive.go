package scripttest

import (
	"fmt"
	"image"
	"os"
	"path/filepath"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/pixform/pixform/state"
)

// deriveCmds are the test script commands of the derive_*.txtar scripts:
//
//	imgalpha FILE     the image at FILE has a transparent or translucent
//	                  pixel (! imgalpha: every pixel is opaque)
//	chainok           every derived image of the lockfile records the
//	                  hash its source image is recorded with
func deriveCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"imgalpha": cmdImgalpha,
		"chainok":  cmdChainok,
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

// cmdChainok checks that every derived image of the lockfile records the
// hash its source has now: the chain was made in order, from the latest
// source.
func cmdChainok(ts *testscript.TestScript, neg bool, args []string) {
	lock, err := state.ReadLock(filepath.Join(ts.Getenv("WORK"), state.LockFileName))
	ts.Check(err)
	var bad []string
	for a, e := range lock.Images {
		src, ok := e.Inputs.SourceAddr()
		if !ok {
			continue
		}
		if se, found := lock.Images[src]; !found || se.SHA256 != e.Inputs.SourceSHA256 {
			bad = append(bad, fmt.Sprintf("%s records source %s with sha256 %.12s, which is not its recorded one", a, src, e.Inputs.SourceSHA256))
		}
	}
	if (len(bad) == 0) == neg {
		ts.Fatalf("chainok: %v", bad)
	}
}
