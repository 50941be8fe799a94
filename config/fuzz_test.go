package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// addExampleSeeds adds every example configuration file to f's corpus.
func addExampleSeeds(f *testing.F) {
	f.Helper()
	files, _ := filepath.Glob(filepath.Join("..", "examples", "*", "*.hcl"))
	for _, p := range files {
		src, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	for _, s := range []string{
		"",
		"image \"a\" {\n  prompt = \"x\"\n}\n",
		"image \"a\" {\n  count = 2\n  prompt = \"${count.index}\"\n}\n",
		"image \"a\" {\n  for_each = toset([\"../x\"])\n  prompt = each.key\n}\n",
		"locals {\n  a = local.b\n  b = local.a\n}\n",
		"variable \"v\" {\n  type = list(string)\n  default = [1]\n}\n",
		"provider \"imagine\" {\n  timeout = \"-1s\"\n}\n",
		"image \"a\" {\n  prompt = <<EOT\nhello\nEOT\n}\n",
		// Functions whose result is many times their arguments: capped.
		"locals {\n  a = range(1000)\n  p = setproduct(local.a, local.a, local.a)\n}\nimage \"a\" {\n  prompt = \"${length(local.p)}\"\n}\n",
		"image \"a\" {\n  prompt = format(\"%0900000000d\", 1)\n}\n",
		"image \"a\" {\n  prompt = indent(1000000000, \"a\\nb\")\n}\n",
	} {
		f.Add([]byte(s))
	}
}

// FuzzLoad checks that Load never panics and that every error it reports
// about the fuzzed file points into the source.
func FuzzLoad(f *testing.F) {
	addExampleSeeds(f)
	// A missing quote, whose cascade of diagnostics Load collapses.
	f.Add([]byte("image \"a\" {\n  prompt = \"x\" +\n}\nimage \"b\" {\n  prompt = \"y\n  seed = 1\n\n}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "main.pix.hcl"), src, 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, diags := Load(dir, LoadOptions{})
		if cfg == nil {
			t.Fatal("nil Config")
		}
		for _, d := range diags {
			if d.Severity == hcl.DiagError && d.Subject == nil {
				t.Errorf("error without a Subject: %s: %s", d.Summary, d.Detail)
			}
		}
		if !diags.HasErrors() {
			if cfg.Digest == "" {
				t.Error("no Digest for a clean configuration")
			}
			for i := 1; i < len(cfg.Images); i++ {
				if !cfg.Images[i-1].Addr.Less(cfg.Images[i].Addr) {
					t.Errorf("images out of order: %s before %s", cfg.Images[i-1].Addr, cfg.Images[i].Addr)
				}
			}
		}
	})
}

// FuzzFormat checks that Format never panics, refuses what does not parse,
// and produces source that still parses.
func FuzzFormat(f *testing.F) {
	addExampleSeeds(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		out, diags := Format(src, "main.pix.hcl")
		if checkNesting(src, "main.pix.hcl", hcl.InitialPos, false).HasErrors() {
			// Too deep to parse safely: Format must refuse it unparsed.
			if out != nil || !diags.HasErrors() {
				t.Fatal("Format accepted a file nested too deeply")
			}
			return
		}
		_, parseDiags := hclsyntax.ParseConfig(src, "main.pix.hcl", hcl.InitialPos)
		if parseDiags.HasErrors() != diags.HasErrors() {
			t.Fatalf("Format errors = %v, parse errors = %v", diags.HasErrors(), parseDiags.HasErrors())
		}
		if diags.HasErrors() {
			if out != nil {
				t.Error("Format returned output for a file that does not parse")
			}
			return
		}
		if _, d := hclsyntax.ParseConfig(out, "main.pix.hcl", hcl.InitialPos); d.HasErrors() {
			t.Errorf("formatted output does not parse: %s\n%q", d.Error(), out)
		}
	})
}

// FuzzQuickNesting checks that the byte scan never passes what HCL's
// tokens show is nested too deeply or chains too many operators, on files
// and expressions. Seeds near the limits make the fuzzer's job possible.
func FuzzQuickNesting(f *testing.F) {
	addExampleSeeds(f)
	rep := strings.Repeat
	for _, s := range []string{
		rep("(", 255) + "\"${" + "x" + "}\"",
		"a = \"" + rep("${(", 130) + "\"",
		"a = \"\\\"" + rep("(", 300) + "\"",
		"a = \"$${" + rep("[", 300) + "}\"",
		"# x\n" + rep("!", 4095) + "\n" + rep("!", 10),
		"a = [" + rep("1 +\n", 4090) + "1]",
		"a = {" + rep("b = 1 + 1 ", 3000) + "}",
		"a = x" + rep("[*].b", 2100),
		"a = " + rep("1 => ", 5000),
		"a = " + rep("1 <= ", 5000),
		"a = \"${" + rep("a.b.", 2100) + "}\"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if !quickNestingOK(src) {
			return
		}
		for _, expr := range []bool{false, true} {
			if d := lexNesting(src, "f", hcl.InitialPos, expr); d.HasErrors() {
				t.Fatalf("the byte scan passed what the tokens refuse (expr %v): %s", expr, d.Error())
			}
		}
	})
}
