package config

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"weak"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// TestCompactFileContext: the compact file a Config keeps answers the
// diagnostic writer's "which block" question as a parse of the whole file
// does, at every offset, for a file parsed whole and one parsed in chunks
// (lazily, as image blocks).
func TestCompactFileContext(t *testing.T) {
	var big strings.Builder
	big.WriteString("variable \"v\" {\n  default = 1\n}\n\nlocals {\n  a = 1\n}\n")
	long := strings.Repeat("a long prompt ", 20)
	for i := range 300 {
		fmt.Fprintf(&big, "\nimage \"img%d\" {\n  prompt = \"%s${var.v}\"\n}\n", i, long)
	}
	tests := map[string]string{
		"small":   "# c\nimage \"a\" {\n  prompt = \"x\"\n}\n\nprovider \"imagine\" {\n}\n",
		"chunked": big.String(),
		"broken":  "image \"a\" {\n  prompt = \"x\"\n}\nimage \"b\" {\n  prompt = (\n",
	}
	for name, src := range tests {
		t.Run(name, func(t *testing.T) {
			files, _ := parseSources([]source{{name: "main.pix.hcl", src: []byte(src)}}, 1, false)
			f := files[0]
			if name == "chunked" {
				if _, ok := f.Nav.(*chunkNav); !ok {
					t.Fatalf("the file was not parsed in chunks (Nav %T)", f.Nav)
				}
			}
			whole, _ := hclsyntax.ParseConfig([]byte(src), "main.pix.hcl", hcl.InitialPos)
			orig := whole.Nav.(interface{ ContextString(int) string })
			c := compactFile(f)
			if string(c.Bytes) != src {
				t.Fatal("the compact file lost its source")
			}
			got := c.Nav.(interface{ ContextString(int) string })
			// Every offset around a line break (where blocks start and
			// end) and every seventh in between.
			for off := 0; off <= len(src); off++ {
				if off%7 != 0 && !strings.Contains(src[max(off-1, 0):min(off+2, len(src))], "\n") {
					continue
				}
				if want, have := orig.ContextString(off), got.ContextString(off); want != have {
					t.Fatalf("offset %d: context %q, want %q", off, have, want)
				}
			}
			if c.Body == nil {
				t.Error("nil Body")
			}
			if _, diags := c.Body.Content(&hcl.BodySchema{}); diags.HasErrors() {
				t.Errorf("the empty body has errors: %s", diags.Error())
			}
		})
	}
}

// TestCompactFileDropsKeptBlocks: a compacted file of image blocks kept
// as source holds none of them (each one's header, body and ranges): its
// index names their labels without them, so that they are garbage once
// Load is done.
func TestCompactFileDropsKeptBlocks(t *testing.T) {
	src := []byte("image \"a\" {\n  prompt = \"one\"\n}\n\nimage \"b\" {\n  prompt = \"two\"\n}\n")
	f, ok := parseFastOpts(src, "a.pix.hcl", hcl.InitialPos, true)
	if !ok {
		t.Fatal("the file did not parse")
	}
	lf, ok := f.Body.(*lazyFile)
	if !ok || len(lf.blocks) != 2 {
		t.Fatalf("body %T, want a lazyFile of 2 blocks", f.Body)
	}
	kept := make([]weak.Pointer[hcl.Block], len(lf.blocks))
	for i, b := range lf.blocks {
		if _, ok := b.Body.(*lazyBody); !ok {
			t.Fatalf("block %d was not kept as source", i)
		}
		kept[i] = weak.Make(b)
	}
	compact := compactFile(f)
	f, lf = nil, nil
	runtime.GC()
	for i, w := range kept {
		if w.Value() != nil {
			t.Errorf("block %d is still held by the compacted file", i)
		}
	}
	nav := compact.Nav.(interface{ ContextString(int) string })
	for offset, want := range map[int]string{3: `image "a"`, 40: `image "b"`, 31: ""} {
		if got := nav.ContextString(offset); got != want {
			t.Errorf("ContextString(%d) = %q, want %q", offset, got, want)
		}
	}
}
