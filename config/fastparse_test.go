package config

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// checkFastParse fails t when parseFast accepts src but its syntax tree
// or navigation differ from hclsyntax.ParseConfig's, or when HCL reports
// a diagnostic for it. It returns whether parseFast accepted src.
func checkFastParse(t *testing.T, src []byte, start hcl.Pos) bool {
	t.Helper()
	fast, ok := parseFast(src, "main.pix.hcl", start)
	if !ok {
		return false
	}
	want, diags := hclsyntax.ParseConfig(src, "main.pix.hcl", start)
	if len(diags) > 0 {
		t.Fatalf("parseFast accepted a source HCL reports on: %s\n%q", diags.Error(), src)
	}
	if !reflect.DeepEqual(fast.Body, want.Body) {
		t.Fatalf("parseFast's tree differs from HCL's for\n%q\nfast: %s\nhcl:  %s", src, dump(fast.Body), dump(want.Body))
	}
	type nav interface {
		ContextString(int) string
		ContextDefRange(int) hcl.Range
	}
	fn, wn := fast.Nav.(nav), want.Nav.(nav)
	step := max(1, len(src)/256)
	for off := start.Byte; off <= start.Byte+len(src); off += step {
		if f, w := fn.ContextString(off), wn.ContextString(off); f != w {
			t.Fatalf("ContextString(%d) = %q, HCL's %q", off, f, w)
		}
		if f, w := fn.ContextDefRange(off), wn.ContextDefRange(off); f != w {
			t.Fatalf("ContextDefRange(%d) = %v, HCL's %v", off, f, w)
		}
	}
	return true
}

// dump prints a syntax tree with every field, for a failure message.
func dump(v any) string { return fmt.Sprintf("%#v", v) }

func TestParseFastMatchesHCL(t *testing.T) {
	var blocks, forEach strings.Builder
	blocks.WriteString("# images\n\nvariable \"theme\" {\n  default = \"neon\"\n}\n\nlocals {\n  city = \"a futuristic city at night\"\n}\n\nprovider \"imagine\" {\n  style = \"flux-schnell\"\n}\n")
	forEach.WriteString(blocks.String() + "\nlocals {\n  views = {\n")
	for i := range 50 {
		fmt.Fprintf(&blocks, "\nimage \"img%d\" {\n  prompt       = \"${local.city}, ${var.theme} lights, view %d\"\n  aspect_ratio = \"16:9\"\n  seed         = %d\n  path         = \"assets/set%d/img%d.png\"\n}\n", i, i, i+1, i%10, i)
		fmt.Fprintf(&forEach, "    v%d = \"view number %d\"\n", i, i)
	}
	forEach.WriteString("  }\n}\n\nimage \"view\" {\n  for_each     = local.views\n  prompt       = \"${local.city}, ${var.theme} lights, ${each.value}\"\n  aspect_ratio = \"16:9\"\n  path         = \"assets/views/${each.key}.png\"\n}\n")

	// Each of these must take the fast path: a test that the subset is
	// what configurations are written in, not only that it is right.
	accepted := map[string]string{
		"blocks":                            blocks.String(),
		"for_each":                          forEach.String(),
		"empty":                             "",
		"blank lines and spaces at the end": "\n\n  \n\t",
		"comments":                          "// head\n# one\nimage \"a\" { # open\n  // inside\n  prompt = \"x\" # after\n  seed = 7 // after\n} # end\n# last\n",
		"comment with UTF-8":                "# café — ünïcode\nimage \"a\" {\n  prompt = \"x\"\n}\n",
		"bare labels, nested blocks":        "a b c {\n  d {\n  }\n  e \"f\" {\n    g = true\n    h = false\n    i = null\n  }\n}\n",
		"empty body":                        "image \"a\" {}\n",
		"escapes":                           "a = \"q\\\"b\\\\s\\n\\t\\r$x %x $ %\"\nb = \"\"\n",
		"lone interpolation":                "a = \"${x}\"\nb = \"${ x.y.z }\"\nc = \"${\"n\"}\"\n",
		"interpolation and literal":         "a = \"${x}${y}\"\nb = \"p${x}\"\nc = \"${x}s\"\n",
		"references":                        "a = local.views\nb = var.x-y\nc = _a\n",
		"numbers":                           "a = 0\nb = 12345678901234567890\n",
		"objects":                           "a = {}\nb = { x = 1, y = \"2\" }\nc = {\n  \"k\" = 1\n  k2: 2,\n\n  # c\n  n = { m = local.x }\n}\n",
		"attribute at the end":              "a = 1",
		"block at the end":                  "a {\n}",
		"no newline in object at end":       "a = {\n  b = 1 }\n",
	}
	for name, src := range accepted {
		t.Run(name, func(t *testing.T) {
			if !checkFastParse(t, []byte(src), hcl.InitialPos) {
				t.Fatalf("parseFast refused %q", src)
			}
			// A chunk: the same source further into a file.
			if !checkFastParse(t, []byte(src), hcl.Pos{Line: 40, Column: 1, Byte: 1234}) {
				t.Fatalf("parseFast refused %q as a chunk", src)
			}
		})
	}

	// These are HCL's to parse (its diagnostics, or constructs outside
	// the subset); parseFast must refuse them or agree with HCL.
	for _, src := range []string{
		"a = 1 + 2\n", "a = f(x)\n", "a = x[0]\n", "a = [1]\n", "a = -1\n", "a = 1.5\n", "a = 1e3\n",
		"a = x ? 1 : 2\n", "a = <<EOT\nx\nEOT\n", "a = \"${x~}\"\n", "a = \"%{if x}y%{endif}\"\n",
		"a = \"$${x}\"\n", "a = \"\\u00e9\"\n", "a = \"é\"\n", "é = 1\n", "a = \"x\r\n", "a = 1\r\n",
		"a = 1\na = 2\n", "a = 1 b = 2\n", "a {\n", "a { b = 1 }\n", "a {\n} b\n", "}\n", "a = {\n",
		"a = \"x\n", "a = \"x", "a = { for k, v in x : k => v }\n", "a = {\n for = 1\n}\n",
		"a = x.0\n", "a = x.*.y\n", "a = true.x\n", "\"a\" = 1\n", "a == 1\n", "a = { b == 1 }\n",
		"a = { b => 1 }\n", "a = { (b) = 1 }\n", "/* c */ a = 1\n", "# no newline", "a = 1 # x",
		"\ufeffa = 1\n", "a = \"\t\"\n", "a = x::y\n", "a = x (1)\n", "a = 1x\n", "a = .5\n",
		"a \"${x}\" {\n}\n", "a = \"x\" \"y\"\n", "a = { b = 1 c = 2 }\n", "a = 01\n",
	} {
		checkFastParse(t, []byte(src), hcl.InitialPos)
	}
}

// FuzzParseFast checks that whatever parseFast accepts, HCL parses
// without a diagnostic into the same tree.
func FuzzParseFast(f *testing.F) {
	addExampleSeeds(f)
	for _, s := range []string{
		"# c\nimage \"a\" {\n  prompt = \"${local.city}, ${var.theme} x\"\n  seed = 1\n}\n",
		"locals {\n  views = {\n    v0 = \"view number 0\"\n    \"k\": { a = b.c },\n  }\n}\n",
		"a = \"q\\\"b\\\\s\\n\\t$x %x\"\nb b {}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if checkNesting(src, "main.pix.hcl", hcl.InitialPos, false).HasErrors() {
			return // parseConfig never parses these
		}
		checkFastParse(t, src, hcl.InitialPos)
	})
}

// TestWholeLiteral: a literal of decimal digits is the value, precision,
// rounding mode and accuracy that cty.ParseNumberVal makes of it, down to
// what a division by three then gives.
func TestWholeLiteral(t *testing.T) {
	third := cty.NumberIntVal(3)
	for _, s := range []string{"0", "1", "7", "007", "255", "4294967295", "4294967296", "123456789012345678", "999999999999999999"} {
		want, err := cty.ParseNumberVal(s)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := wholeLiteral([]byte(s))
		if !ok {
			t.Fatalf("%s: not taken", s)
		}
		if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(got.Divide(third), want.Divide(third)) {
			t.Errorf("%s: got %s, want %s", s, got.AsBigFloat().Text('g', -1), want.AsBigFloat().Text('g', -1))
		}
	}
	for _, s := range []string{"", "1234567890123456789"} {
		if _, ok := wholeLiteral([]byte(s)); ok {
			t.Errorf("%q taken", s)
		}
	}
}
