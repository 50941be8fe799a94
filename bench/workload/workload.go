package workload

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"

	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/media"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

// Shape is how a configuration declares its images.
type Shape string

// Configuration shapes.
const (
	// Blocks declares one image block per image, 5,000 blocks a file.
	Blocks Shape = "blocks"
	// ForEach declares one image block with for_each over an n-entry map.
	ForEach Shape = "for_each"
)

// Chain declares n/2 images with for_each, and n/2 more, each an upscale
// of one of those (derived images: a request each, started once its
// source is recorded). It is not in Shapes: no-op plans of it are not
// generated.
const Chain Shape = "chain"

// Shapes lists every Shape, in the order reports show them.
var Shapes = []Shape{Blocks, ForEach}

// BlocksPerFile is how many image blocks WriteConfig puts in one file of
// the Blocks shape.
const BlocksPerFile = 5000

// header opens the first file of every configuration: a variable, a local
// and a provider block, so that evaluation does real template work.
const header = `variable "theme" {
  default = "neon"
}

locals {
  city = "a futuristic city at night"
}

provider "imagine" {
  style = "flux-schnell"
}
`

// WriteConfig writes a configuration of n images of the given shape into
// dir, which must exist. Blocks images have seeds; ForEach images leave
// the seed out, as most users do.
func WriteConfig(dir string, shape Shape, n int) error {
	return writeConfig(dir, shape, n, BlocksPerFile)
}

// writeConfig is WriteConfig with the number of blocks a file as a
// parameter, so that tests can spread few blocks over several files.
func writeConfig(dir string, shape Shape, n, perFile int) error {
	switch shape {
	case Blocks:
		return writeBlocks(dir, n, perFile)
	case ForEach:
		return writeForEach(dir, n)
	case Chain:
		return writeChain(dir, n)
	}
	return fmt.Errorf("write workload config: unknown shape %q: use %q or %q", shape, Blocks, ForEach)
}

func writeBlocks(dir string, n, perFile int) error {
	var b strings.Builder
	b.WriteString(header)
	file := 0
	flush := func() error {
		name := filepath.Join(dir, fmt.Sprintf("images%02d.pix.hcl", file))
		if err := os.WriteFile(name, []byte(b.String()), 0o644); err != nil {
			return fmt.Errorf("write workload config: %w", err)
		}
		b.Reset()
		file++
		return nil
	}
	for i := range n {
		fmt.Fprintf(&b, `
image "img%d" {
  prompt       = "${local.city}, ${var.theme} lights, view %d"
  aspect_ratio = "16:9"
  seed         = %d
  path         = "assets/set%d/img%d.png"
}
`, i, i, i+1, i%10, i)
		if (i+1)%perFile == 0 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if b.Len() > 0 || file == 0 {
		return flush()
	}
	return nil
}

func writeForEach(dir string, n int) error {
	var b strings.Builder
	b.WriteString(header)
	b.WriteString("\nlocals {\n  views = {\n")
	for i := range n {
		fmt.Fprintf(&b, "    v%d = \"view number %d\"\n", i, i)
	}
	b.WriteString(`  }
}

image "view" {
  for_each     = local.views
  prompt       = "${local.city}, ${var.theme} lights, ${each.value}"
  aspect_ratio = "16:9"
  path         = "assets/views/${each.key}.png"
}
`)
	if err := os.WriteFile(filepath.Join(dir, "main.pix.hcl"), []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write workload config: %w", err)
	}
	return nil
}

func writeChain(dir string, n int) error {
	var b strings.Builder
	b.WriteString(header)
	b.WriteString("\nlocals {\n  views = {\n")
	for i := range n / 2 {
		fmt.Fprintf(&b, "    v%d = \"view number %d\"\n", i, i)
	}
	b.WriteString(`  }
}

image "view" {
  for_each     = local.views
  prompt       = "${local.city}, ${var.theme} lights, ${each.value}"
  aspect_ratio = "16:9"
  path         = "assets/views/${each.key}.png"
}

image "view_2x" {
  for_each  = local.views
  from      = image.view[each.key]
  operation = "upscale"
  path      = "assets/views-2x/${each.key}.png"
}
`)
	if err := os.WriteFile(filepath.Join(dir, "main.pix.hcl"), []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write workload config: %w", err)
	}
	return nil
}

// TinyPNG returns a small PNG (16×9, the aspect of the workloads) whose
// colour depends on i, so that files differ and hashing is real.
func TinyPNG(i int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 16, 9))
	c := color.NRGBA{R: uint8(i), G: uint8(i >> 8), B: uint8(i >> 16), A: 255}
	for y := range 9 {
		for x := range 16 {
			img.SetNRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		// Encoding an in-memory NRGBA image into a bytes.Buffer cannot fail.
		panic(fmt.Sprintf("encode tiny png: %v", err))
	}
	return buf.Bytes()
}

// WriteApplied makes dir look as if `pixform apply` had rendered every
// image of its configuration with the imagine provider: a tiny PNG at each
// image's path and a lockfile recording each, so that `pixform plan` is a
// no-op. It loads the configuration with config.Load, so it works for any
// shape. Images without a seed get seed index+1. It returns the number of
// images written.
func WriteApplied(dir string) (int, error) {
	cfg, diags := config.Load(dir, config.LoadOptions{})
	if diags.HasErrors() {
		return 0, fmt.Errorf("load workload config in %s: %s", dir, diags.Error())
	}
	lock := state.NewLock()
	made := map[string]bool{}
	for i, img := range cfg.Images {
		data := TinyPNG(i)
		full := filepath.Join(dir, filepath.FromSlash(img.Path))
		if d := filepath.Dir(full); !made[d] {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return 0, fmt.Errorf("write workload image %s: %w", img.Path, err)
			}
			made[d] = true
		}
		if err := os.WriteFile(full, data, 0o644); err != nil {
			return 0, fmt.Errorf("write workload image %s: %w", img.Path, err)
		}
		seed := img.Seed
		if seed == 0 {
			seed = int64(i + 1)
		}
		sum := sha256.Sum256(data)
		lock.Images[img.Addr] = state.Entry{
			Inputs:   state.Inputs{Prompt: img.Prompt, Style: img.Style, AspectRatio: img.AspectRatio, Seed: seed},
			Provider: providers.Imagine, Path: img.Path,
			SHA256: hex.EncodeToString(sum[:]), Bytes: int64(len(data)),
			MediaType: media.PNG, Width: 16, Height: 9,
		}
	}
	if err := os.WriteFile(filepath.Join(dir, state.LockFileName), lock.Marshal(), 0o644); err != nil {
		return 0, fmt.Errorf("write workload lockfile: %w", err)
	}
	return len(cfg.Images), nil
}
