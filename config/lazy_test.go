package config

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// TestLazyLoadSame: loading image blocks lazily (as Load does for large
// configurations) gives the same images, digest and diagnostics, with the
// same source context, as keeping every syntax tree.
func TestLazyLoadSame(t *testing.T) {
	// blocks is n image blocks from index from, over more than one chunk
	// when n is large; edit changes the text of block i.
	blocks := func(from, n int, edit map[int]string) string {
		var b strings.Builder
		for i := from; i < from+n; i++ {
			if e, ok := edit[i]; ok {
				b.WriteString(e)
				continue
			}
			fmt.Fprintf(&b, "\nimage \"img%d\" {\n  prompt       = \"${local.city}, ${var.theme} lights, view %d\"\n  aspect_ratio = \"16:9\"\n  seed         = %d\n  path         = \"assets/set%d/img%d.png\"\n}\n", i, i, i+1, i%10, i)
		}
		return b.String()
	}
	header := "variable \"theme\" {\n  default = \"neon\"\n}\n\nlocals {\n  city = \"a city\"\n}\n"
	tests := map[string]map[string]string{
		"clean": {
			"a.pix.hcl": header + blocks(0, 600, nil),
			"b.pix.hcl": blocks(600, 600, nil),
			"c.pix.hcl": blocks(1200, 10, nil),
		},
		"for_each and count": {
			"a.pix.hcl": header + blocks(0, 600, map[int]string{
				450: "\nimage \"fe\" {\n  for_each = toset([\"x\", \"y\"])\n  prompt = each.key\n}\n",
				550: "\nimage \"ct\" {\n  count = 3\n  prompt = \"n ${count.index}\"\n}\n",
			}),
		},
		"errors in later chunks": {
			"a.pix.hcl": header + blocks(0, 600, map[int]string{
				450: "\nimage \"img5\" {\n  prompt = \"dup name\"\n}\n",
				480: "\nimage \"bad\" {\n  prompt = \"x\"\n  style = \"flux-devv\"\n}\n",
				510: "\nimage \"unk\" {\n  prompt = \"x\"\n  promt = \"y\"\n}\n",
				540: "\nimage \"samepath\" {\n  prompt = \"x\"\n  path = \"assets/set7/img7.png\"\n}\n",
				570: "\nimage \"ref\" {\n  prompt = local.nope\n}\n",
			}),
		},
		"declarations among images": {
			"a.pix.hcl": blocks(0, 600, map[int]string{
				500: "\nlocals {\n  city = \"a city\"\n}\n\nvariable \"theme\" {\n  default = \"neon\"\n}\n",
			}),
		},
		"parse error in a later chunk": {
			"a.pix.hcl": header + blocks(0, 600, map[int]string{500: "\nimage \"broken\" {\n  prompt = (\n}\n"}),
		},
		"heredoc across a cut": {
			"a.pix.hcl": header + blocks(0, 600, map[int]string{
				500: "\nimage \"h\" {\n  prompt = <<EOT\n" + strings.Repeat("text\nimage \"x\" {\n", 2000) + "EOT\n}\n",
			}),
		},
	}
	for name, files := range tests {
		t.Run(name, func(t *testing.T) {
			dir := writeDir(t, files)
			tree, treeDiags := Load(dir, LoadOptions{lazyFrom: 1 << 40})
			lazy, lazyDiags := Load(dir, LoadOptions{lazyFrom: 1})
			if !reflect.DeepEqual(tree.Images, lazy.Images) || tree.Digest != lazy.Digest || tree.Provider != lazy.Provider {
				t.Fatalf("lazy loading changed the result: %d images (digest %q), want %d (digest %q)", len(lazy.Images), lazy.Digest, len(tree.Images), tree.Digest)
			}
			if got, want := render(lazyDiags), render(treeDiags); got != want {
				t.Fatalf("diagnostics differ:\nlazy:%s\ntree:%s", got, want)
			}
			for _, d := range treeDiags {
				if d.Subject == nil {
					continue
				}
				ctx := func(c *Config) string {
					return c.Files[d.Subject.Filename].Nav.(*blockNav).ContextString(d.Subject.Start.Byte)
				}
				if got, want := ctx(lazy), ctx(tree); got != want {
					t.Errorf("%s at %s: context %q, want %q", d.Summary, at(d), got, want)
				}
			}
		})
	}
}

// TestExpandAcrossBatches: expandImages evaluates blocks in batches and
// drops each batch, and its path checks still see every earlier image: a
// duplicate path (exact or in case only) or a path through a symbolic
// link is found however far apart the blocks are.
func TestExpandAcrossBatches(t *testing.T) {
	var b strings.Builder
	n := 2*expandBatch + 10
	for i := range n {
		path := fmt.Sprintf("assets/img%d.png", i)
		switch i {
		case expandBatch + 3:
			path = "assets/img1.png"
		case 2*expandBatch + 1:
			path = "ASSETS/IMG2.png"
		case 2*expandBatch + 5:
			path = "link/x.png"
		}
		fmt.Fprintf(&b, "image \"img%d\" {\n  prompt = \"view %d\"\n  path   = %q\n}\n", i, i, path)
	}
	dir := writeDir(t, map[string]string{"main.pix.hcl": b.String(), "real/.keep": ""})
	if err := symlink("real", dir, "link"); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	cfg, diags := Load(dir, LoadOptions{})
	line := func(i int) int { return 4*i + 3 }
	want := []string{
		fmt.Sprintf("Duplicate image path main.pix.hcl:%d,12 image.img%d and image.img1 (declared at main.pix.hcl:%d:12)", line(expandBatch+3), expandBatch+3, line(1)),
		fmt.Sprintf("Duplicate image path main.pix.hcl:%d,12 image.img%d writes \"ASSETS/IMG2.png\" and image.img2 (declared at main.pix.hcl:%d:12)", line(2*expandBatch+1), 2*expandBatch+1, line(2)),
		fmt.Sprintf("Image path goes through a symbolic link main.pix.hcl:%d,12 \"link/x.png\" goes through the symbolic link \"link\"", line(2*expandBatch+5)),
	}
	if len(diags) != len(want) {
		t.Fatalf("got %d diagnostics, want %d:%s", len(diags), len(want), render(diags))
	}
	for i, d := range diags {
		got := d.Summary + " " + at(d) + " " + d.Detail
		if !strings.HasPrefix(got, want[i]) {
			t.Errorf("diagnostic %d:\n got %s\nwant %s…", i, got, want[i])
		}
	}
	if len(cfg.Images) != n-3 {
		t.Errorf("got %d images, want %d", len(cfg.Images), n-3)
	}
}
