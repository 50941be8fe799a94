package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// simpleHeader declares what the image blocks of simpleImageConfig refer
// to: variables and locals of several kinds.
const simpleHeader = `variable "theme" {
  default = "neon"
}
variable "n" {
  type    = number
  default = 3
}
variable "nothing" {
  default = null
}
variable "ratio" {
  default = "16:9"
}
locals {
  city = "Oslo"
  e    = ""
  nfd  = "e\u0301"
  list = ["a"]
  num  = 7
  sp   = "  "
}
provider "imagine" {
  style = "flux-schnell"
}
`

// fullDiags renders diagnostics with everything a user sees of them: the
// whole subject and context ranges and the "in image" context of the file.
func fullDiags(cfg *Config, diags hcl.Diagnostics) string {
	var b strings.Builder
	rng := func(r *hcl.Range) string {
		if r == nil {
			return "-"
		}
		return fmt.Sprintf("%s:%d,%d(%d)-%d,%d(%d)", r.Filename, r.Start.Line, r.Start.Column, r.Start.Byte, r.End.Line, r.End.Column, r.End.Byte)
	}
	for _, d := range diags {
		ctx := ""
		if d.Subject != nil {
			if f := cfg.Files[d.Subject.Filename]; f != nil {
				if cs, ok := f.Nav.(interface{ ContextString(int) string }); ok {
					ctx = cs.ContextString(d.Subject.Start.Byte)
				}
			}
		}
		fmt.Fprintf(&b, "\n  %s %s ctx %s [%s] %s: %s", severity(d), rng(d.Subject), rng(d.Context), ctx, d.Summary, d.Detail)
	}
	return b.String()
}

// loadBothWays loads files as Load does and the general way (every image
// block's syntax tree built, every attribute evaluated by HCL), and fails
// unless images and diagnostics are the same.
func loadBothWays(t *testing.T, files map[string]string) (*Config, hcl.Diagnostics) {
	t.Helper()
	return loadDirBothWays(t, writeDir(t, files))
}

// loadDirBothWays is loadBothWays of the configuration in dir.
func loadDirBothWays(t *testing.T, dir string) (*Config, hcl.Diagnostics) {
	t.Helper()
	fast, fastDiags := Load(dir, LoadOptions{})
	general, generalDiags := Load(dir, LoadOptions{generalOnly: true})
	if got, want := fullDiags(fast, fastDiags), fullDiags(general, generalDiags); got != want {
		t.Fatalf("diagnostics:%s\nthe general way:%s", got, want)
	}
	if !reflect.DeepEqual(fast.Images, general.Images) {
		t.Fatalf("images %#v\nthe general way: %#v", fast.Images, general.Images)
	}
	if fast.Digest != general.Digest {
		t.Fatalf("digest %s, the general way %s", fast.Digest, general.Digest)
	}
	// Kept lazily as a large configuration is (lazyImages), too.
	lazy, lazyDiags := Load(dir, LoadOptions{lazyFrom: 1})
	if got, want := fullDiags(lazy, lazyDiags), fullDiags(general, generalDiags); got != want {
		t.Fatalf("diagnostics, lazily:%s\nthe general way:%s", got, want)
	}
	if !reflect.DeepEqual(lazy.Images, general.Images) {
		t.Fatalf("images, lazily %#v\nthe general way: %#v", lazy.Images, general.Images)
	}
	return fast, fastDiags
}

// simpleBlocks are image blocks, most of them of the simple form that
// Load evaluates from their source, and some just outside it.
var simpleBlocks = []string{
	"image \"a\" {\n  prompt       = \"${local.city}, ${var.theme} lights, view 0\"\n  aspect_ratio = \"16:9\"\n  seed         = 1\n  path         = \"assets/set0/a.png\"\n}\n",
	"image \"a\" {\n  prompt = \"x\"\n}\n",
	"image \"a\" {\n  prompt = \"x\"\n  style = \"flux-dev\"\n  candidates = 3\n}\n",
	"image \"a\" {\n\tprompt\t=\t\"x\" # c\n  // d\n\n  seed = 007\n} # after\n",
	"image \"a\" { # c\n  prompt = \"a\\\"b\\\\c\\nd\\te\\r\"\n}\n",
	"image \"a\" {\n  prompt = \"${ local.city }${var.theme}\"\n}\n",
	"image \"a\" {\n  prompt = \"${var.theme}\"\n}\n",
	"image \"a\" {\n  prompt = \"\"\n}\n",
	"image \"a\" {\n  prompt = \"  \"\n}\n",
	"image \"a\" {\n  prompt = \"${local.sp}\"\n}\n",
	"image \"a\" {\n  prompt = \"x${local.e}\"\n}\n",
	"image \"a\" {\n  prompt = \"${local.e}${local.nfd}\"\n}\n",
	"image \"a\" {\n  prompt = \"a${local.nfd}\"\n}\n",
	"image \"a\" {\n  prompt = \"${var.n}\"\n}\n",
	"image \"a\" {\n  prompt = \"x ${var.n}\"\n}\n",
	"image \"a\" {\n  prompt = \"x ${var.nothing}\"\n}\n",
	"image \"a\" {\n  prompt = \"x ${var.missing}\"\n}\n",
	"image \"a\" {\n  prompt = \"x ${local.missing}\"\n}\n",
	"image \"a\" {\n  prompt = \"x ${local.list}\"\n}\n",
	"image \"a\" {\n  prompt = \"x ${local.city.y}\"\n}\n",
	"image \"a\" {\n  prompt = \"x ${each.key}\"\n}\n",
	"image \"a\" {\n  prompt = \"x ${count.index}\"\n}\n",
	"image \"a\" {\n  prompt = \"$${x} %%{y}\"\n}\n",
	"image \"a\" {\n  prompt = \"%{if true}x%{endif}\"\n}\n",
	"image \"a\" {\n  prompt = \"${~var.theme}\"\n}\n",
	"image \"a\" {\n  prompt = \"caf\u00e9\"\n}\n",
	"image \"a\" {\n  prompt = <<EOT\nx\nEOT\n}\n",
	"image \"a\" {\n  prompt = 12\n}\n",
	"image \"a\" {\n  prompt = true\n}\n",
	"image \"a\" {\n  prompt = null\n}\n",
	"image \"a\" {\n  prompt = var.theme\n}\n",
	"image \"a\" {\n  prompt = \"x\"\n  seed = \"5\"\n}\n",
	"image \"a\" {\n  prompt = \"x\"\n  seed = 0\n}\n",
	"image \"a\" {\n  prompt = \"x\"\n  seed = 4294967295\n}\n",
	"image \"a\" {\n  prompt = \"x\"\n  seed = 4294967296\n}\n",
	"image \"a\" {\n  prompt = \"x\"\n  seed = 99999999999999999999\n}\n",
	"image \"a\" {\n  prompt = \"x\"\n  seed = 1.5\n}\n",
	"image \"a\" {\n  prompt = \"x\"\n  seed = -1\n}\n",
	"image \"a\" {\n  prompt = \"x\"\n  seed = 1 + 1\n}\n",
	"image \"a\" {\n  prompt = \"x\"\n  candidates = 17\n}\n",
	"image \"a\" {\n  prompt = \"x\"\n  candidates = 0\n}\n",
	"image \"a\" {\n  prompt = \"x\"\n  aspect_ratio = \"16x9\"\n}\n",
	"image \"a\" {\n  prompt = \"x\"\n  aspect_ratio = \"${var.ratio}\"\n}\n",
	"image \"a\" {\n  prompt = \"x\"\n  aspect_ratio = \"${var.ratio} \"\n}\n",
	"image \"a\" {\n  prompt = \"x\"\n  style = \"nope\"\n}\n",
	"image \"a\" {\n  prompt = \"x\"\n  path = \"../x.png\"\n}\n",
	"image \"a\" {\n  prompt = \"x\"\n  path = \"/x.png\"\n}\n",
	"image \"a\" {\n  prompt = \"x\"\n  path = \"a\\\\b.png\"\n}\n",
	"image \"a\" {\n  prompt = \"x\"\n  path = \"x.gif\"\n}\n",
	"image \"a\" {\n  prompt = \"x\"\n  path = \"./a//b/../c.png\"\n}\n",
	"image \"a\" {\n  prompt = \"x\"\n  path = \".pixform/x.png\"\n}\n",
	"image \"a\" {\n  prompt = \"x\"\n  path = \".git/x.png\"\n}\n",
	"image \"a\" {\n  prompt = \"x\"\n  path = \"\"\n}\n",
	"image \"a\" {\n  prompt = \"x\"\n  path = \"same.png\"\n}\nimage \"b\" {\n  prompt = \"y\"\n  path = \"same.png\"\n}\n",
	"image \"a\" {\n  prompt = \"x\"\n  path = \"Same.png\"\n}\nimage \"b\" {\n  prompt = \"y\"\n  path = \"same.png\"\n}\n",
	"image \"a\" {\n  prompt = \"x\"\n}\nimage \"a\" {\n  prompt = \"y\"\n}\n",
	"image \"a\" {\n  prompt = \"x\"\n  prompt = \"y\"\n}\n",
	"image \"a\" {\n  prompt = \"x\"\n  colour = \"red\"\n}\n",
	"image \"a\" {\n  seed = 1\n}\n",
	"image \"a\" {\n}\n",
	"image \"a\" {}\n",
	"image \"a\" { prompt = \"x\" }\n",
	"image \"1a\" {\n  prompt = \"x\"\n}\n",
	"image \"a b\" {\n  prompt = \"x\"\n}\n",
	"image a {\n  prompt = \"x\"\n}\n",
	"image \"a\" \"b\" {\n  prompt = \"x\"\n}\n",
	"image {\n  prompt = \"x\"\n}\n",
	"image \"a\" {\n  prompt = \"x\"\n  transparent = true\n}\n",
	"image \"a\" {\n  prompt = \"x\"\n  count = 2\n}\n",
	"image \"a\" {\n  prompt = \"x\"\n  nested {\n  }\n}\n",
	"image \"a\" {\n  prompt = \"x\"\n}",
	"image \"a\" {\n  prompt = \"x\"\n",
	"image \"a\" {\n  prompt = \"x\n}\n",
	"image \"a\" {\n  prompt = \"x\"\n} image \"b\" {\n  prompt = \"y\"\n}\n",
	"image \"a\" {\n  prompt = \"x\" \"y\"\n}\n",
	"image \"a\" {\n  prompt == \"x\"\n}\n",
	"image \"a\" {\n  prompt = \"x\"\n}\nsurprise = 1\n",
	"image \"a\" {\n  prompt = \"x\"\n}\nwidget \"w\" {\n}\n",
	"image \"a\" {\n  prompt = \"x\"\n}\n\n\n   image \"b\" {\n  prompt = \"y\"\n    }\n",
	"image \"a\" {\n  prompt = \"x\"\n}\nimage \"b\" {\n  prompt = \"${local.city}\"\n  path = \"images/a.png\"\n}\n",
	"image \"a\" {\r\n  prompt = \"x\"\r\n}\r\nimage \"b\" {\n  prompt = \"y\" # \u00e9\n}\n",
	"image \"a\" {\n  prompt = \"x\"  # caf\u00e9\n  seed = 2\n}\nimage \"b\" {\n  prompt = \"\u00e9 ${local.city}\"\n}\n",
	"image \"a\" {\n  prompt = \"${local.city}${local.city}${local.city}${local.city}${local.city}${local.city}${local.city}${local.city}${local.city}${local.city}\"\n}\n",
	"image \"a\" {\n  prompt = \"${var.theme-x}\"\n}\n",
	"image \"a\" {\n  prompt = \"" + strings.Repeat("a long prompt ", 60) + "${local.city}\"\n  path = \"" + strings.Repeat("d/", 300) + "a.png\"\n}\n",
	"image \"a\" {\n  prompt = \"x\\\\${var.theme}\"\n}\n",
	"image \"a\" {\n  prompt = \"x$y$\"\n}\n",
	"image \"a\" {\n  prompt = \"x\"\n  path = \"a/${var.theme}.png\"\n  style = \"${var.theme}x\"\n}\n",
}

// TestSimpleImagesLikeGeneral: image blocks that Load evaluates from their
// source load to the same images and diagnostics as the general way.
func TestSimpleImagesLikeGeneral(t *testing.T) {
	for i, blocks := range simpleBlocks {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			loadBothWays(t, map[string]string{"main.pix.hcl": simpleHeader + blocks})
			loadBothWays(t, map[string]string{"a.pix.hcl": simpleHeader, "b.pix.hcl": "\n# lead\n" + blocks})
		})
	}
}

// TestSimpleImagesKeptAsSource: the image blocks of the simple form are
// kept as their source, not as syntax trees, whatever chunk they are in.
func TestSimpleImagesKeptAsSource(t *testing.T) {
	var src strings.Builder
	// All of it in the subset parseFast takes.
	src.WriteString("variable \"theme\" {\n  default = \"neon\"\n}\n\nlocals {\n  city = \"Oslo\"\n}\n\nprovider \"imagine\" {\n  style = \"flux-schnell\"\n}\n")
	for i := range 2000 {
		fmt.Fprintf(&src, "\nimage \"img%d\" {\n  prompt       = \"${local.city}, ${var.theme} lights, view %d\"\n  aspect_ratio = \"16:9\"\n  seed         = %d\n  path         = \"assets/set%d/img%d.png\"\n}\n", i, i, i+1, i%10, i)
	}
	src.WriteString("\nimage \"other\" {\n  prompt = var.theme\n}\n")
	files, diags := parseSources([]source{{name: "main.pix.hcl", src: []byte(src.String())}}, 0, true)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	content, diags := files[0].Body.Content(rootSchema())
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	kept, trees := 0, 0
	for _, b := range content.Blocks {
		if b.Type != "image" {
			continue
		}
		if _, ok := b.Body.(*lazyBody); ok {
			kept++
		} else {
			trees++
		}
	}
	if kept != 2000 || trees != 1 {
		t.Errorf("%d image blocks kept as source and %d as trees, want 2000 and 1", kept, trees)
	}
	cfg, diags := loadBothWays(t, map[string]string{"main.pix.hcl": src.String()})
	if len(diags) > 0 || len(cfg.Images) != 2001 {
		t.Fatalf("%d images:%s", len(cfg.Images), render(diags))
	}
}

// FuzzSimpleImage: any image blocks after simpleHeader load to the same
// images and diagnostics as the general way.
func FuzzSimpleImage(f *testing.F) {
	for _, s := range simpleBlocks {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, blocks string) {
		if len(blocks) > 600 {
			return
		}
		loadBothWays(t, map[string]string{"main.pix.hcl": simpleHeader + blocks})
	})
}

// TestSimpleImagesOnDisk: what Load finds on disk at the paths of image
// blocks kept as source (a directory, symbolic links, a file in the way)
// it reports as the general way does, at the same ranges.
func TestSimpleImagesOnDisk(t *testing.T) {
	var src strings.Builder
	src.WriteString(simpleHeader)
	for i, p := range []string{"dir/a.png", "link/b.png", "file/c.png", "ok/d.png", "ok/e.png", "leaf.png"} {
		fmt.Fprintf(&src, "image \"i%d\" {\n  prompt = \"x ${local.city}\"\n  path   = \"%s\"\n}\n", i, p)
	}
	dir := writeDir(t, map[string]string{"main.pix.hcl": src.String(), "file": "not a directory", "ok/e.png": "png", "elsewhere/x": ""})
	if err := os.MkdirAll(filepath.Join(dir, "dir", "a.png"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := symlink("elsewhere", dir, "link"); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	if err := symlink("elsewhere/x", dir, "leaf.png"); err != nil {
		t.Fatal(err)
	}
	cfg, diags := loadDirBothWays(t, dir)
	// Load itself refuses the two symbolic links; the directory and the
	// file in the way are the plan's to report.
	if len(diags) != 2 {
		t.Errorf("%d diagnostics, want one for each symbolic link:%s", len(diags), fullDiags(cfg, diags))
	}
}

// TestUnsupportedBlockAmongKept: a block of a type the configuration does
// not take, in a large file of image blocks kept as source (in a chunk
// of its own, or among them), is an error, as the general way says, not
// dropped.
func TestUnsupportedBlockAmongKept(t *testing.T) {
	blocks := func(src *strings.Builder, from, to int) {
		for i := from; i < to; i++ {
			fmt.Fprintf(src, "\nimage \"img%d\" {\n  prompt = \"${local.city}, view %d\"\n  path   = \"assets/img%d.png\"\n}\n", i, i, i)
		}
	}
	for name, typo := range map[string]string{
		"at the end": "\nimgae \"typo\" {\n  prompt = \"x\"\n}\n",
		"an image":   "\nimage \"a\" \"b\" {\n  prompt = \"x\"\n}\n",
	} {
		t.Run(name, func(t *testing.T) {
			var src strings.Builder
			src.WriteString(simpleHeader)
			blocks(&src, 0, 1500)
			src.WriteString(typo)
			// And one among kept blocks, in the chunk of its own too.
			var other strings.Builder
			blocks(&other, 1500, 2000)
			other.WriteString(typo)
			blocks(&other, 2000, 3000)
			_, diags := loadBothWays(t, map[string]string{"main.pix.hcl": src.String(), "other.pix.hcl": other.String()})
			if n := len(diags.Errs()); n != 2 {
				t.Errorf("%d errors, want 2:%s", n, render(diags))
			}
		})
	}
	// An image block with two labels comes first among the diagnostics,
	// as its partial content's, wherever it is.
	var src strings.Builder
	src.WriteString(simpleHeader)
	blocks(&src, 0, 1500)
	src.WriteString("\nimgae \"typo\" {\n  prompt = \"x\"\n}\n")
	blocks(&src, 1500, 3000)
	src.WriteString("\nimage \"a\" \"b\" {\n  prompt = \"x\"\n}\n")
	_, diags := loadBothWays(t, map[string]string{"main.pix.hcl": src.String()})
	if n := len(diags.Errs()); n != 2 {
		t.Errorf("%d errors, want 2:%s", n, render(diags))
	}
}
