package state

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pixform/pixform/addrs"
)

const sum = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func derivedLock() *Lock {
	rec := func(p string, in Inputs) Entry {
		return Entry{Inputs: in, Provider: "imagine", Path: p, SHA256: sum, Bytes: 10, MediaType: "image/png", Width: 4, Height: 3}
	}
	l := NewLock()
	l.Images[addrs.MustParse("image.hero")] = rec("images/hero.png", Inputs{Prompt: "a hero", Style: "flux-dev", AspectRatio: "16:9", Seed: 42})
	l.Images[addrs.MustParse("image.cut")] = rec("images/cut.png", Inputs{Operation: "remove-background", Source: "image.hero", SourceSHA256: sum})
	l.Images[addrs.MustParse("image.fill")] = rec("images/fill.png", Inputs{Prompt: "books", Operation: "generative-fill", Source: "photos/shelf.jpg", SourceSHA256: sum, Mask: "photos/mask.png", MaskSHA256: sum})
	l.Images[addrs.MustParse("image.small")] = rec("images/small.jpg", Inputs{Source: `image.icon["home"]`, SourceSHA256: sum, Resize: "640x0", Crop: "16:9", Quality: 80})
	l.Images[addrs.MustParse("image.logo")] = rec("images/logo.png", Inputs{Prompt: "logo", AspectRatio: "1:1", Seed: 3, Transparent: true})
	return l
}

func TestDerivedLockRoundTrip(t *testing.T) {
	l := derivedLock()
	data := l.Marshal()
	want, err := os.ReadFile(filepath.Join("testdata", "lock", "derived.json"))
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != string(want) {
		t.Errorf("Marshal:\n%s\nwant (testdata/lock/derived.json):\n%s", data, want)
	}
	l2, err := ParseLock(data, "x")
	if err != nil {
		t.Fatal(err)
	}
	if string(l2.Marshal()) != string(data) {
		t.Error("not a fixed point")
	}
	if !reflect.DeepEqual(l2.Images[addrs.MustParse("image.small")], l.Images[addrs.MustParse("image.small")]) {
		t.Error("entry changed in the round trip")
	}
}

func TestDerivedDigest(t *testing.T) {
	base := Inputs{Operation: "upscale", Source: "image.hero", SourceSHA256: sum}
	// The digest of inputs without derived fields is what it always was
	// (the content cache's keys stay valid).
	plain := Inputs{Prompt: "a", Style: "flux-dev", AspectRatio: "1:1", Seed: 1}
	if got, want := plain.Digest(), plainDigest; got != want {
		t.Errorf("digest of plain inputs %s, want %s", got, want)
	}
	for name, f := range map[string]func(*Inputs){
		"operation":     func(in *Inputs) { in.Operation = "remove-background" },
		"source sha256": func(in *Inputs) { in.SourceSHA256 = strings.Repeat("f", 64) },
		"mask":          func(in *Inputs) { in.Mask = "m.png"; in.MaskSHA256 = sum },
		"resize":        func(in *Inputs) { in.Resize = "1x0" },
		"crop":          func(in *Inputs) { in.Crop = "1:1" },
		"quality":       func(in *Inputs) { in.Quality = 5 },
		"transparent":   func(in *Inputs) { in.Transparent = true },
	} {
		in := base
		f(&in)
		if in.Digest() == base.Digest() {
			t.Errorf("%s: digest unchanged", name)
		}
	}
	// The source is keyed by its bytes: a renamed source image or a
	// moved source file keeps the digest.
	for _, src := range []string{"image.other", "photos/hero.png"} {
		in := base
		in.Source = src
		if in.Digest() != base.Digest() {
			t.Errorf("source %s: digest changed", src)
		}
	}
}

func TestDerivedValidate(t *testing.T) {
	ok := Entry{Provider: "imagine", Path: "a.png", SHA256: sum, Bytes: 1, MediaType: "image/png", Width: 1, Height: 1}
	tests := map[string]struct {
		in   Inputs
		want string
	}{
		"fine":               {Inputs{Operation: "upscale", Source: "image.hero", SourceSHA256: sum}, ""},
		"file source":        {Inputs{Source: "photos/a.jpg", SourceSHA256: sum, Resize: "1x0"}, ""},
		"unknown operation":  {Inputs{Operation: "x", Source: "image.hero", SourceSHA256: sum}, "operation"},
		"no source sha":      {Inputs{Operation: "upscale", Source: "image.hero"}, "source_sha256"},
		"source escapes":     {Inputs{Operation: "upscale", Source: "../a.png", SourceSHA256: sum}, "source"},
		"mask without sha":   {Inputs{Operation: "generative-fill", Source: "image.hero", SourceSHA256: sum, Mask: "m.png"}, "mask_sha256"},
		"operation no src":   {Inputs{Prompt: "a", Style: "s", AspectRatio: "1:1", Seed: 1, Operation: "upscale"}, "no source"},
		"transparent no ar":  {Inputs{Prompt: "a", Seed: 1, Transparent: true}, "aspect_ratio"},
		"transparent source": {Inputs{Source: "image.hero", SourceSHA256: sum, Transparent: true}, "transparent"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e := ok
			e.Inputs = tc.in
			err := ValidateEntry(e)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("error %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want one about %s", err, tc.want)
			}
		})
	}
}

// plainDigest is the digest of Inputs{Prompt: "a", Style: "flux-dev",
// AspectRatio: "1:1", Seed: 1} before derived images existed.
const plainDigest = "6233dc1959870a438e719a1e19ae4d353ae44996d07345da8c2b23cfa104609b"
