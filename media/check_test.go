package media

import (
	"bytes"
	"image"
	"image/color"
	"image/color/palette"
	"image/jpeg"
	"image/png"
	"runtime"
	"testing"
)

func testImages(t testing.TB) map[string][]byte {
	t.Helper()
	rgba := image.NewRGBA(image.Rect(0, 0, 37, 21))
	for y := range 21 {
		for x := range 37 {
			rgba.Set(x, y, color.RGBA{uint8(x * 7), uint8(y * 11), uint8(x * y), uint8(128 + x)})
		}
	}
	gray16 := image.NewGray16(image.Rect(0, 0, 5, 9))
	pal := image.NewPaletted(image.Rect(0, 0, 8, 3), palette.Plan9)
	out := map[string][]byte{}
	for name, img := range map[string]image.Image{"rgba": rgba, "gray16": gray16, "paletted": pal} {
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		out[name+".png"] = b.Bytes()
	}
	for name, img := range map[string]image.Image{"rgba": rgba, "gray": image.NewGray(image.Rect(0, 0, 17, 40))} {
		var b bytes.Buffer
		if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 80}); err != nil {
			t.Fatal(err)
		}
		out[name+".jpg"] = b.Bytes()
	}
	return out
}

func TestCheckWholeImages(t *testing.T) {
	for name, data := range testImages(t) {
		t.Run(name, func(t *testing.T) {
			cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			mt, w, h, err := Check(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if mt != OfFormat(format) || w != cfg.Width || h != cfg.Height {
				t.Errorf("Check = %s %dx%d, want %s %dx%d", mt, w, h, OfFormat(format), cfg.Width, cfg.Height)
			}
			// Trailing bytes are not read, as the decoders do not read them.
			if _, _, _, err := Check(bytes.NewReader(append(bytes.Clone(data), "trailer"...))); err != nil {
				t.Errorf("Check with a trailer: %v", err)
			}
		})
	}
}

// A body cut short at any byte is refused.
func TestCheckRefusesEveryTruncation(t *testing.T) {
	for name, data := range testImages(t) {
		for n := range len(data) {
			if _, _, _, err := Check(bytes.NewReader(data[:n])); err == nil {
				t.Errorf("%s cut to %d of %d bytes: Check accepted it", name, n, len(data))
			}
		}
	}
}

// Any byte of a PNG changed in transit is caught (its chunk's CRC, or the
// structure around it), except in the signature's sniffed prefix, where
// the body is then not a PNG at all.
func TestCheckRefusesDamagedPNG(t *testing.T) {
	for name, data := range testImages(t) {
		if Sniff(data) != PNG {
			continue
		}
		for i := range len(data) {
			d := bytes.Clone(data)
			d[i] ^= 0x10
			if _, _, _, err := Check(bytes.NewReader(d)); err == nil {
				t.Errorf("%s with byte %d flipped: Check accepted it", name, i)
			}
		}
	}
}

func TestCheckRefusesOthers(t *testing.T) {
	tests := map[string][]byte{
		"empty":            nil,
		"text":             []byte("<html>not an image</html>"),
		"png signature":    []byte("\x89PNG\r\n\x1a\n"),
		"jpeg soi only":    {0xff, 0xd8},
		"jpeg eoi at once": {0xff, 0xd8, 0xff, 0xd9},
	}
	for name, data := range tests {
		if _, _, _, err := Check(bytes.NewReader(data)); err == nil {
			t.Errorf("%s: Check accepted it", name)
		}
	}
}

func FuzzCheck(f *testing.F) {
	for _, data := range testImages(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		mt, w, h, err := Check(bytes.NewReader(data))
		if err != nil {
			return
		}
		if !Known(mt) || w <= 0 || h <= 0 {
			t.Fatalf("Check accepted %s %dx%d", mt, w, h)
		}
	})
}

// BenchmarkVerify compares Check with a full decode, the check it
// replaced, on a 1024×576 gradient of the kind the fake API serves.
func BenchmarkVerify(b *testing.B) {
	img := image.NewRGBA(image.Rect(0, 0, 1024, 576))
	for y := range 576 {
		for x := range 1024 {
			i := img.PixOffset(x, y)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = uint8(x/4), uint8(y/3), uint8((x+y)/7), 255
		}
	}
	var pb, jb bytes.Buffer
	(&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&pb, img)
	jpeg.Encode(&jb, img, &jpeg.Options{Quality: 85})
	for _, tc := range []struct {
		name string
		data []byte
	}{{"png", pb.Bytes()}, {"jpeg", jb.Bytes()}} {
		b.Run(tc.name+"/check", func(b *testing.B) {
			b.SetBytes(int64(len(tc.data)))
			for b.Loop() {
				if _, _, _, err := Check(bytes.NewReader(tc.data)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(tc.name+"/decode", func(b *testing.B) {
			b.SetBytes(int64(len(tc.data)))
			for b.Loop() {
				if _, _, err := image.Decode(bytes.NewReader(tc.data)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestCheckAllocatesLittle: checking an image allocates no read or copy
// buffer of its own (an apply checks every image it receives, and a
// 32 KiB buffer each is garbage to zero and collect), whatever its size.
func TestCheckAllocatesLittle(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop what it is given")
	}
	for name, data := range testImages(t) {
		Check(bytes.NewReader(data)) // fill the pool
		var before, after runtime.MemStats
		const runs = 50
		runtime.ReadMemStats(&before)
		for range runs {
			if _, _, _, err := Check(bytes.NewReader(data)); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		runtime.ReadMemStats(&after)
		if per := (after.TotalAlloc - before.TotalAlloc) / runs; per > 4<<10 {
			t.Errorf("%s: %d bytes allocated per Check, want at most 4 KiB", name, per)
		}
	}
}
