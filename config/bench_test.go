package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeBlocks writes n image blocks spread over files of 5,000 blocks each.
func writeBlocks(tb testing.TB, dir string, n int) {
	tb.Helper()
	header := `variable "theme" {
  default = "neon"
}

locals {
  city = "a futuristic city at night"
}

provider "imagine" {
  style = "flux-schnell"
}
`
	var b strings.Builder
	b.WriteString(header)
	file := 0
	flush := func() {
		name := filepath.Join(dir, fmt.Sprintf("images%02d.pix.hcl", file))
		if err := os.WriteFile(name, []byte(b.String()), 0o644); err != nil {
			tb.Fatal(err)
		}
		b.Reset()
		file++
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
		if (i+1)%5000 == 0 {
			flush()
		}
	}
	if b.Len() > 0 {
		flush()
	}
}

// writeForEach writes one image block with for_each over an n-entry map.
func writeForEach(tb testing.TB, dir string, n int) {
	tb.Helper()
	var b strings.Builder
	b.WriteString("locals {\n  views = {\n")
	for i := range n {
		fmt.Fprintf(&b, "    v%d = \"view number %d\"\n", i, i)
	}
	b.WriteString(`  }
}

image "view" {
  for_each     = local.views
  prompt       = "a city at night, ${each.value}"
  aspect_ratio = "16:9"
  path         = "assets/views/${each.key}.png"
}
`)
	if err := os.WriteFile(filepath.Join(dir, "main.pix.hcl"), []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
}

func BenchmarkLoad(b *testing.B) {
	shapes := map[string]func(testing.TB, string, int){
		"blocks":   writeBlocks,
		"for_each": writeForEach,
	}
	for _, shape := range []string{"blocks", "for_each"} {
		for _, n := range []int{2000, 20000} {
			b.Run(fmt.Sprintf("%s/%d", shape, n), func(b *testing.B) {
				dir := b.TempDir()
				shapes[shape](b, dir, n)
				b.ResetTimer()
				for b.Loop() {
					cfg, diags := Load(dir, LoadOptions{})
					if diags.HasErrors() {
						b.Fatal(diags.Error())
					}
					if len(cfg.Images) != n {
						b.Fatalf("got %d images, want %d", len(cfg.Images), n)
					}
				}
			})
		}
	}
}
