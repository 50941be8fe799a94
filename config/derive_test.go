package config

import (
	"bytes"
	"image"
	"image/png"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/pixform/pixform/addrs"
)

// hero is a text-to-image block that derived images of the tests use.
const hero = "image \"hero\" {\n  prompt = \"a hero\"\n}\n"

func TestDeriveLoad(t *testing.T) {
	cfg := mustLoad(t, map[string]string{
		"photos/shelf.jpg":      "jpeg",
		"photos/shelf-mask.png": "png",
		"main.pix.hcl": hero + `
image "icon" {
  for_each = toset(["home", "user"])
  prompt   = "icon ${each.key}"
}
image "var" {
  count  = 2
  prompt = "variant"
}
image "cut" {
  for_each  = toset(["home", "user"])
  from      = image.icon[each.key]
  operation = "remove-background"
}
image "hero_2x" {
  from      = image.hero
  operation = "upscale"
}
image "var0" {
  from      = image.var[0]
  operation = "upscale"
}
image "shelf" {
  from      = "photos/shelf.jpg"
  operation = "generative-fill"
  mask      = "./photos/shelf-mask.png"
  prompt    = "books"
}
image "scene" {
  from      = image.hero_2x
  operation = "ai-background"
  prompt    = "on a marble table"
  seed      = 7
}
image "hero_640" {
  from    = image.hero
  resize  = { width = 640 }
  crop    = "16:9"
  quality = 80
  path    = "assets/hero-640.jpg"
}
image "logo" {
  prompt      = "a logo"
  transparent = true
}
`,
	}, LoadOptions{})
	got := map[string]Image{}
	for _, img := range cfg.Images {
		got[img.Addr.String()] = img
	}
	check := func(addr string, want Image) {
		t.Helper()
		img, ok := got[addr]
		if !ok {
			t.Fatalf("%s not loaded", addr)
		}
		img.Addr, img.DeclRange, img.OnDisk = addrs.Addr{}, hcl.Range{}, false
		if img.Path == "" {
			t.Errorf("%s: no path", addr)
		}
		want.Path = img.Path
		if img != want {
			t.Errorf("%s = %+v, want %+v", addr, img, want)
		}
	}
	check(`image.cut["user"]`, Image{From: addrs.MustParse(`image.icon["user"]`), Operation: "remove-background"})
	check("image.hero_2x", Image{From: addrs.MustParse("image.hero"), Operation: "upscale"})
	check("image.var0", Image{From: addrs.MustParse("image.var[0]"), Operation: "upscale"})
	check("image.shelf", Image{FromFile: "photos/shelf.jpg", Operation: "generative-fill", Mask: "photos/shelf-mask.png", Prompt: "books"})
	check("image.scene", Image{From: addrs.MustParse("image.hero_2x"), Operation: "ai-background", Prompt: "on a marble table", Seed: 7})
	check("image.hero_640", Image{From: addrs.MustParse("image.hero"), Resize: Resize{Width: 640}, Crop: "16:9", Quality: 80})
	check("image.logo", Image{Prompt: "a logo", AspectRatio: "1:1", Transparent: true})
	if got["image.hero_640"].Path != "assets/hero-640.jpg" {
		t.Errorf("hero_640 path %q", got["image.hero_640"].Path)
	}
	h640, h2x := got["image.hero_640"], got["image.hero_2x"]
	if !h640.Local() || h2x.Local() {
		t.Error("Local() wrong")
	}
}

func TestDeriveDigestStable(t *testing.T) {
	// A configuration without derived images keeps its digest.
	a := mustLoad(t, map[string]string{"main.pix.hcl": hero}, LoadOptions{})
	b := mustLoad(t, map[string]string{"main.pix.hcl": hero + "image \"x\" {\n  from = image.hero\n  operation = \"upscale\"\n}\n"}, LoadOptions{})
	c := mustLoad(t, map[string]string{"main.pix.hcl": hero + "image \"x\" {\n  from = image.hero\n  operation = \"remove-background\"\n}\n"}, LoadOptions{})
	if a.Digest == b.Digest || b.Digest == c.Digest {
		t.Error("digests of different configurations are equal")
	}
}

func TestDeriveDiagnostics(t *testing.T) {
	tests := map[string]struct {
		files map[string]string
		want  []wantDiag
	}{
		"cycle": {
			files: map[string]string{"main.pix.hcl": "image \"a\" {\n  from = image.b\n  operation = \"upscale\"\n}\nimage \"b\" {\n  from = image.a\n  operation = \"upscale\"\n}\n"},
			want:  []wantDiag{{"Cycle in derived images", "main.pix.hcl:2,10", []string{"image.a → image.b → image.a"}}},
		},
		"self cycle": {
			files: map[string]string{"main.pix.hcl": "image \"a\" {\n  from = image.a\n  operation = \"upscale\"\n}\n"},
			want:  []wantDiag{{"Cycle in derived images", "main.pix.hcl:2,10", []string{"image.a → image.a"}}},
		},
		"cycle through for_each": {
			files: map[string]string{"main.pix.hcl": "image \"a\" {\n  for_each = toset([\"x\"])\n  from = image.b[each.key]\n  operation = \"upscale\"\n}\nimage \"b\" {\n  for_each = toset([\"x\"])\n  from = image.a[each.key]\n  operation = \"upscale\"\n}\n"},
			want:  []wantDiag{{"Cycle in derived images", "main.pix.hcl:3,10", []string{`image.a["x"] → image.b["x"] → image.a["x"]`}}},
		},
		"dangling reference": {
			files: map[string]string{"main.pix.hcl": hero + "image \"b\" {\n  from = image.heor\n  operation = \"upscale\"\n}\n"},
			want:  []wantDiag{{"Reference to an undeclared image", "main.pix.hcl:5,10", []string{"Did you mean image.hero?"}}},
		},
		"dangling key": {
			files: map[string]string{"main.pix.hcl": "image \"i\" {\n  for_each = toset([\"home\"])\n  prompt = \"x\"\n}\nimage \"b\" {\n  for_each = toset([\"hom\"])\n  from = image.i[each.key]\n  operation = \"upscale\"\n}\n"},
			want:  []wantDiag{{"Reference to an undeclared image", "main.pix.hcl:7,10", []string{`image.i["home"]`}}},
		},
		"reference to repeated block": {
			files: map[string]string{"main.pix.hcl": "image \"i\" {\n  count = 2\n  prompt = \"x\"\n}\nimage \"b\" {\n  from = image.i\n  operation = \"upscale\"\n}\n"},
			want:  []wantDiag{{"Reference to a repeated image", "main.pix.hcl:6,10", []string{"(count): name one, such as image.i["}}},
		},
		"reference to a for_each block": {
			files: map[string]string{"main.pix.hcl": "image \"i\" {\n  for_each = toset([\"home\"])\n  prompt = \"x\"\n}\nimage \"b\" {\n  from = image.i\n  operation = \"upscale\"\n}\n"},
			want:  []wantDiag{{"Reference to a repeated image", "main.pix.hcl:6,10", []string{"(for_each)", `such as image.i["home"]`}}},
		},
		"reference to a for_each block from one": {
			files: map[string]string{"main.pix.hcl": "image \"i\" {\n  for_each = toset([\"home\"])\n  prompt = \"x\"\n}\nimage \"b\" {\n  for_each = toset([\"home\"])\n  from = image.i\n  operation = \"upscale\"\n}\n"},
			want:  []wantDiag{{"Reference to a repeated image", "main.pix.hcl:7,10", []string{`image.i[each.key] or image.i["home"]`}}},
		},
		"reference to a for_each block from a count block": {
			files: map[string]string{"main.pix.hcl": "image \"i\" {\n  for_each = toset([\"home\"])\n  prompt = \"x\"\n}\nimage \"b\" {\n  count = 1\n  from = image.i\n  operation = \"upscale\"\n}\n"},
			want:  []wantDiag{{"Reference to a repeated image", "main.pix.hcl:7,10", []string{`such as image.i["home"]`}}},
		},
		"invalid from": {
			files: map[string]string{"main.pix.hcl": hero + "image \"b\" {\n  from = \"${image.hero}\"\n  operation = \"upscale\"\n}\n"},
			want:  []wantDiag{{"Invalid from", "main.pix.hcl:5,10", nil}},
		},
		"missing prompt for fill": {
			files: map[string]string{"m.png": "x", "main.pix.hcl": hero + "image \"b\" {\n  from = image.hero\n  operation = \"generative-fill\"\n  mask = \"m.png\"\n}\n"},
			want:  []wantDiag{{"Missing prompt", "main.pix.hcl:6,15", []string{`"generative-fill"`, "prompt ="}}},
		},
		"missing mask": {
			files: map[string]string{"main.pix.hcl": hero + "image \"b\" {\n  from = image.hero\n  operation = \"generative-fill\"\n  prompt = \"x\"\n}\n"},
			want:  []wantDiag{{"Missing mask", "main.pix.hcl:6,15", nil}},
		},
		"prompt not taken": {
			files: map[string]string{"main.pix.hcl": hero + "image \"b\" {\n  from = image.hero\n  operation = \"upscale\"\n  prompt = \"x\"\n}\n"},
			want:  []wantDiag{{"Unexpected prompt", "main.pix.hcl:7,3", nil}},
		},
		"seed not taken": {
			files: map[string]string{"main.pix.hcl": hero + "image \"b\" {\n  from = image.hero\n  operation = \"remove-background\"\n  seed = 3\n}\n"},
			want:  []wantDiag{{"Unexpected seed", "main.pix.hcl:7,3", nil}},
		},
		"unknown operation": {
			files: map[string]string{"main.pix.hcl": hero + "image \"b\" {\n  from = image.hero\n  operation = \"upscal\"\n}\n"},
			want:  []wantDiag{{"Unknown operation", "main.pix.hcl:6,15", []string{`Did you mean "upscale"?`}}},
		},
		"operation and resize": {
			files: map[string]string{"main.pix.hcl": hero + "image \"b\" {\n  from = image.hero\n  operation = \"upscale\"\n  resize = { width = 3 }\n}\n"},
			want:  []wantDiag{{"Operation with a local edit", "main.pix.hcl:7,3", nil}},
		},
		"operation without from": {
			files: map[string]string{"main.pix.hcl": "image \"b\" {\n  prompt = \"x\"\n  operation = \"upscale\"\n}\n"},
			want:  []wantDiag{{"Argument needs from", "main.pix.hcl:3,3", nil}},
		},
		"transparent jpg": {
			files: map[string]string{"main.pix.hcl": "image \"b\" {\n  prompt = \"x\"\n  transparent = true\n  path = \"a.jpg\"\n}\n"},
			want:  []wantDiag{{"Transparent image with a JPEG path", "main.pix.hcl:3,3", []string{".png"}}},
		},
		"transparent with style": {
			files: map[string]string{"main.pix.hcl": "image \"b\" {\n  prompt = \"x\"\n  transparent = true\n  style = \"anime\"\n}\n"},
			want:  []wantDiag{{"Style with transparent", "main.pix.hcl:4,3", nil}},
		},
		"transparent derived": {
			files: map[string]string{"main.pix.hcl": hero + "image \"b\" {\n  from = image.hero\n  transparent = true\n}\n"},
			want:  []wantDiag{{"Transparent on a derived image", "main.pix.hcl:6,3", []string{"remove-background"}}},
		},
		"candidates on derived": {
			files: map[string]string{"main.pix.hcl": hero + "image \"b\" {\n  from = image.hero\n  resize = { width = 3 }\n  candidates = 3\n}\n"},
			want:  []wantDiag{{"Candidates on a derived image", "main.pix.hcl:7,3", []string{"text-to-image", "remove candidates"}}},
		},
		"candidates on derived operation": {
			files: map[string]string{"main.pix.hcl": hero + "image \"b\" {\n  from = image.hero\n  operation = \"upscale\"\n  candidates = 2\n}\n"},
			want:  []wantDiag{{"Candidates on a derived image", "main.pix.hcl:7,3", nil}},
		},
		"candidates on transparent": {
			files: map[string]string{"main.pix.hcl": "image \"b\" {\n  prompt = \"x\"\n  transparent = true\n  candidates = 2\n}\n"},
			want:  []wantDiag{{"Candidates on a transparent image", "main.pix.hcl:4,3", []string{"transparent = true", "text-to-image"}}},
		},
		"candidates on transparent false": {
			files: map[string]string{"main.pix.hcl": "image \"b\" {\n  prompt = \"x\"\n  transparent = false\n  candidates = 2\n}\n"},
		},
		"transparent false with style": {
			files: map[string]string{"main.pix.hcl": "image \"b\" {\n  prompt = \"x\"\n  transparent = false\n  style = \"anime\"\n}\n"},
		},
		"transparent per instance with style": {
			files: map[string]string{"main.pix.hcl": "image \"b\" {\n  for_each = { a = true, b = false }\n  prompt = \"x\"\n  transparent = each.value\n  style = \"anime\"\n}\n"},
			want:  []wantDiag{{"Style with transparent", "main.pix.hcl:5,3", []string{`image.b["a"]`}}},
		},
		"from file escapes": {
			files: map[string]string{"main.pix.hcl": "image \"b\" {\n  from = \"../x.png\"\n  operation = \"upscale\"\n}\n"},
			want:  []wantDiag{{"From path escapes the working directory", "main.pix.hcl:2,10", nil}},
		},
		"from file under .pixform": {
			files: map[string]string{"main.pix.hcl": "image \"b\" {\n  from = \".pixform/x.png\"\n  operation = \"upscale\"\n}\n"},
			want:  []wantDiag{{"Invalid from path", "main.pix.hcl:2,10", nil}},
		},
		"from file missing": {
			files: map[string]string{"main.pix.hcl": "image \"b\" {\n  from = \"photos/x.png\"\n  operation = \"upscale\"\n}\n"},
			want:  []wantDiag{{"Source file not found", "main.pix.hcl:2,10", []string{`"photos/x.png"`}}},
		},
		"from file is an output": {
			files: map[string]string{"main.pix.hcl": hero + "image \"b\" {\n  from = \"images/hero.png\"\n  operation = \"upscale\"\n}\n"},
			want:  []wantDiag{{"Source file is an image's output", "main.pix.hcl:5,10", []string{"from = image.hero"}}},
		},
		"mask missing": {
			files: map[string]string{"main.pix.hcl": hero + "image \"b\" {\n  from = image.hero\n  operation = \"generative-fill\"\n  prompt = \"x\"\n  mask = \"m.png\"\n}\n"},
			want:  []wantDiag{{"Source file not found", "main.pix.hcl:8,10", []string{"mask"}}},
		},
		"bad resize": {
			files: map[string]string{"main.pix.hcl": hero + "image \"b\" {\n  from = image.hero\n  resize = { widht = 3 }\n}\n"},
			want:  []wantDiag{{"Invalid resize", "main.pix.hcl:6,12", []string{`Did you mean "width"?`}}},
		},
		"bad crop": {
			files: map[string]string{"main.pix.hcl": hero + "image \"b\" {\n  from = image.hero\n  crop = \"16x9\"\n}\n"},
			want:  []wantDiag{{"Invalid crop", "main.pix.hcl:6,10", nil}},
		},
		"quality of png": {
			files: map[string]string{"main.pix.hcl": hero + "image \"b\" {\n  from = image.hero\n  quality = 80\n}\n"},
			want:  []wantDiag{{"Quality of a PNG image", "main.pix.hcl:6,3", nil}},
		},
		"style on derived": {
			files: map[string]string{"main.pix.hcl": hero + "image \"b\" {\n  from = image.hero\n  style = \"anime\"\n  operation = \"upscale\"\n}\n"},
			want:  []wantDiag{{"Style on a derived image", "main.pix.hcl:6,3", nil}},
		},
		"missing prompt once for for_each": {
			files: map[string]string{"main.pix.hcl": "image \"i\" {\n  for_each = toset([\"a\", \"b\"])\n  prompt = \"x\"\n}\nimage \"b\" {\n  for_each = toset([\"a\", \"b\"])\n  from = image.i[each.key]\n  operation = \"ai-background\"\n}\n"},
			want:  []wantDiag{{"Missing prompt", "main.pix.hcl:8,15", nil}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg, diags := Load(writeDir(t, tc.files), LoadOptions{})
			if len(diags) != len(tc.want) {
				t.Errorf("got %d diagnostics, want %d:%s", len(diags), len(tc.want), render(diags))
			}
			for _, w := range tc.want {
				i := slices.IndexFunc(diags, func(d *hcl.Diagnostic) bool { return d.Summary == w.summary && at(d) == w.at })
				if i < 0 {
					t.Errorf("no diagnostic %q at %s; got:%s", w.summary, w.at, render(diags))
					continue
				}
				for _, s := range w.detail {
					if !strings.Contains(diags[i].Detail, s) {
						t.Errorf("%q: detail %q lacks %q", w.summary, diags[i].Detail, s)
					}
				}
			}
			if diags.HasErrors() && cfg.Digest != "" {
				t.Error("digest with errors")
			}
		})
	}
}

func TestProviderPrices(t *testing.T) {
	cfg := mustLoad(t, map[string]string{"main.pix.hcl": "provider \"imagine\" {\n  prices = { upscale = 2, transparent = 0 }\n}\n" + hero}, LoadOptions{})
	if c, ok := cfg.Provider.Price("upscale"); !ok || c != 2 {
		t.Errorf("upscale price %d %v", c, ok)
	}
	if c, ok := cfg.Provider.Price("transparent"); !ok || c != 0 {
		t.Errorf("transparent price %d %v", c, ok)
	}
	if _, ok := cfg.Provider.Price("generative-fill"); ok {
		t.Error("generative-fill priced")
	}
	_, diags := Load(writeDir(t, map[string]string{"main.pix.hcl": "provider \"imagine\" {\n  prices = { upscal = 2 }\n}\n" + hero}), LoadOptions{})
	if len(diags) != 1 || diags[0].Summary != "Invalid prices" || !strings.Contains(diags[0].Detail, `Did you mean "upscale"?`) || at(diags[0]) != "main.pix.hcl:2,12" {
		t.Errorf("diags:%s", render(diags))
	}
}

func TestMaskSize(t *testing.T) {
	pngOf := func(w, h int) string {
		var b bytes.Buffer
		if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	src := "image \"b\" {\n  from = \"p/s.png\"\n  operation = \"generative-fill\"\n  mask = \"p/m.png\"\n  prompt = \"x\"\n}\n"
	_, diags := Load(writeDir(t, map[string]string{"p/s.png": pngOf(4, 3), "p/m.png": pngOf(3, 3), "main.pix.hcl": src}), LoadOptions{})
	if len(diags) != 1 || diags[0].Summary != "Mask of other dimensions" || at(diags[0]) != "main.pix.hcl:4,10" || !strings.Contains(diags[0].Detail, "3×3") {
		t.Errorf("diags:%s", render(diags))
	}
	mustLoad(t, map[string]string{"p/s.png": pngOf(4, 3), "p/m.png": pngOf(4, 3), "main.pix.hcl": src}, LoadOptions{})
}
