package config

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/pixform/pixform/addrs"
)

// bigSource returns n image blocks, about 200 bytes each, so that a few
// hundred of them span several parse chunks.
func bigSource(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "image \"img%d\" {\n  prompt = \"a fairly long prompt so that the file grows quickly, number %d\"\n  path   = \"assets/img%d.png\"\n}\n\n", i, i, i)
	}
	return b.String()
}

func TestLoadLargeFileInChunks(t *testing.T) {
	src := bigSource(1200)
	if len(src) < 2*chunkSize {
		t.Fatalf("source of %d bytes does not span several chunks", len(src))
	}
	// An error near the end: its line must be counted across chunks.
	bad := strings.Replace(src, `prompt = "a fairly long prompt so that the file grows quickly, number 1150"`, `prompt = ""`, 1)
	lineOf := func(s, sub string) int { return strings.Count(s[:strings.Index(s, sub)], "\n") + 1 }
	tests := map[string]struct {
		src      string
		images   int
		wantDiag string
	}{
		"clean":                 {src: src, images: 1200},
		"error in a late chunk": {src: bad, images: 1199, wantDiag: fmt.Sprintf("main.pix.hcl:%d,12", lineOf(bad, `prompt = ""`))},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg, diags := Load(writeDir(t, map[string]string{"main.pix.hcl": tc.src}), LoadOptions{})
			if len(cfg.Images) != tc.images {
				t.Errorf("got %d images, want %d", len(cfg.Images), tc.images)
			}
			if tc.wantDiag == "" {
				if len(diags) > 0 {
					t.Fatalf("diagnostics:%s", render(diags))
				}
				return
			}
			if len(diags) != 1 || at(diags[0]) != tc.wantDiag {
				t.Fatalf("got%s\nwant one at %s", render(diags), tc.wantDiag)
			}
			// The diagnostic renders with its source line and block context.
			var out bytes.Buffer
			w := hcl.NewDiagnosticTextWriter(&out, cfg.Files, 0, false)
			if err := w.WriteDiagnostics(diags); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{`in image "img1150"`, `prompt = ""`} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("rendered diagnostic lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}

func TestSplitSourceFallsBackInsideHeredoc(t *testing.T) {
	// A heredoc whose text has lines that look like block headers, placed
	// across the first cut: only a whole-file parse reads it right.
	head := bigSource(400)
	heredoc := "locals {\n  text = <<EOT\n" + strings.Repeat("image \"fake\" {\n}\n", 1500) + "EOT\n}\n"
	src := head + heredoc + "image \"last\" {\n  prompt = length(local.text)\n}\n"
	if len(head) >= chunkSize || len(head)+len(heredoc) <= chunkSize {
		t.Fatalf("the first cut (after %d bytes) must land in the heredoc at %d-%d", chunkSize, len(head), len(head)+len(heredoc))
	}
	if chunks := splitSource([]byte(src)); len(chunks) < 2 || chunks[1].start.Byte >= len(head)+len(heredoc) {
		t.Fatal("no cut inside the heredoc")
	}
	cfg := mustLoad(t, map[string]string{"main.pix.hcl": src}, LoadOptions{})
	if _, ok := cfg.Lookup(addrs.Addr{Name: "fake"}); ok {
		t.Error("heredoc text was parsed as a block")
	}
	last, ok := cfg.Lookup(addrs.Addr{Name: "last"})
	if !ok || last.Prompt != fmt.Sprint(1500*len("image \"fake\" {\n}\n")) {
		t.Errorf("image.last = %q, %v", last.Prompt, ok)
	}
}

func TestSplitSource(t *testing.T) {
	src := []byte(bigSource(1000))
	chunks := splitSource(src)
	if len(chunks) < 2 {
		t.Fatalf("got %d chunks", len(chunks))
	}
	var joined []byte
	for i, c := range chunks {
		joined = append(joined, c.src...)
		if c.start.Byte != len(joined)-len(c.src) {
			t.Errorf("chunk %d starts at byte %d, want %d", i, c.start.Byte, len(joined)-len(c.src))
		}
		if want := bytes.Count(src[:c.start.Byte], []byte("\n")) + 1; c.start.Line != want {
			t.Errorf("chunk %d starts at line %d, want %d", i, c.start.Line, want)
		}
		if i > 0 && !blockStart(c.src) {
			t.Errorf("chunk %d does not start at a block: %q", i, c.src[:20])
		}
	}
	if !bytes.Equal(joined, src) {
		t.Error("chunks do not join to the source")
	}
}
