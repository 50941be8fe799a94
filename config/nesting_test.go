package config

import (
	"fmt"
	"strings"
	"testing"
)

func TestLoadNesting(t *testing.T) {
	rep := strings.Repeat
	// The 100,000 parentheses of the report; elsewhere depths and
	// lengths far beyond the limits, small enough for the race detector.
	const deep = 5000
	// image wraps an expression in an image block (the first level of
	// nesting): the expression starts on line 2, column 12.
	image := func(expr string) string {
		return "image \"a\" {\n  prompt = " + expr + "\n}\n"
	}
	// many is n small image blocks, a file larger than one parse chunk.
	many := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "image \"b%d\" {\n  prompt = \"b\"\n  seed = 1\n}\n\n", i)
		}
		return b.String()
	}
	tooDeep := "Expression nested too deeply"
	tests := map[string]struct {
		files map[string]string
		opts  LoadOptions
		want  []wantDiag // nil: loads cleanly
	}{
		"100,000 parentheses": {
			files: map[string]string{"main.pix.hcl": image(rep("(", 100000) + `"x"` + rep(")", 100000))},
			want:  []wantDiag{{tooDeep, "main.pix.hcl:2,267", []string{"level 257", "at most 256", "local values"}}},
		},
		"parentheses, unclosed": {
			files: map[string]string{"main.pix.hcl": image(rep("(", deep))},
			want:  []wantDiag{{tooDeep, "main.pix.hcl:2,267", nil}},
		},
		"lists": {
			files: map[string]string{"main.pix.hcl": "locals {\n  l = " + rep("[", deep) + rep("]", deep) + "\n}\n" + image(`"x"`)},
			want:  []wantDiag{{tooDeep, "main.pix.hcl:2,262", []string{`bracket "["`}}},
		},
		"objects": {
			files: map[string]string{"main.pix.hcl": "locals {\n  o = " + rep("{a=", deep) + "1" + rep("}", deep) + "\n}\n" + image(`"x"`)},
			want:  []wantDiag{{tooDeep, "main.pix.hcl:2," + fmt.Sprint(7+3*255), []string{`bracket "{"`}}},
		},
		"blocks": {
			files: map[string]string{"main.pix.hcl": rep("a {\n", deep) + rep("}\n", deep)},
			want:  []wantDiag{{tooDeep, "main.pix.hcl:257,3", nil}},
		},
		"templates": {
			files: map[string]string{"main.pix.hcl": image(rep(`"${`, deep) + "1" + rep(`}"`, deep))},
			want:  []wantDiag{{tooDeep, "main.pix.hcl:2," + fmt.Sprint(12+3*255+1), []string{`template sequence "${"`}}},
		},
		"template directives": {
			files: map[string]string{"main.pix.hcl": image(`"` + rep(`%{ if true }`, deep) + "x" + rep(`%{ endif }`, deep) + `"`)},
			want:  []wantDiag{{tooDeep, "main.pix.hcl:2," + fmt.Sprint(13+12*254), []string{`template sequence "%{"`}}},
		},
		"template for directives": {
			files: map[string]string{"main.pix.hcl": image(`"` + rep(`%{for x in [1]}`, deep) + "x" + rep(`%{endfor}`, deep) + `"`)},
			want:  []wantDiag{{tooDeep, "main.pix.hcl:2," + fmt.Sprint(13+15*253+11), []string{`bracket "["`}}},
		},
		"template directives at the limit": {
			files: map[string]string{"main.pix.hcl": image(`"` + rep(`%{ if true }`, 254) + "x" + rep(`%{ endif }`, 254) + `"`)},
		},
		"heredoc interpolations": {
			files: map[string]string{"main.pix.hcl": image("<<EOT\n" + rep("${(", deep) + "1" + rep(")}", deep) + "\nEOT")},
			want:  []wantDiag{{tooDeep, "main.pix.hcl:3," + fmt.Sprint(3*127+3), nil}},
		},
		"deep in a large file": {
			files: map[string]string{"main.pix.hcl": many(3000) + image(rep("(", deep))},
			want:  []wantDiag{{tooDeep, "main.pix.hcl:15002,267", nil}},
		},
		"variable file": {
			files: map[string]string{
				"main.pix.hcl":     "variable \"v\" {\n  type = list(number)\n  default = []\n}\n" + image(`"x"`),
				"prod.pixvars.hcl": "v = " + rep("[", deep),
			},
			want: []wantDiag{{tooDeep, "prod.pixvars.hcl:1,261", nil}},
		},
		"-var value": {
			files: map[string]string{"main.pix.hcl": "variable \"v\" {\n  type = list(number)\n  default = []\n}\n" + image(`"x"`)},
			opts:  LoadOptions{Vars: []string{"v=" + rep("[", deep)}},
			want:  []wantDiag{{tooDeep, "<value for var.v>:1,257", []string{"-var"}}},
		},
		"exactly the limit": {
			// The image block is the first level.
			files: map[string]string{"main.pix.hcl": image(rep("(", MaxNesting-1) + `"x"` + rep(")", MaxNesting-1))},
		},
		"brackets in text do not count": {
			files: map[string]string{"main.pix.hcl": "# " + rep("(", deep) + "\n/* " + rep("[", deep) + " */\n" +
				image(`"`+rep("(", deep)+`$${`+rep("{", deep)+`"`) +
				"image \"h\" {\n  prompt = <<-EOT\n    " + rep("(", deep) + "\n    EOT\n}\n"},
		},
		"unary chain": {
			files: map[string]string{"main.pix.hcl": image(rep("!", deep) + "true")},
			want:  []wantDiag{{"Expression too long", "main.pix.hcl:2," + fmt.Sprint(12+MaxOperators), []string{`"!"`, "at most 4096"}}},
		},
		"negation chain": {
			files: map[string]string{"main.pix.hcl": image(rep("- ", deep) + "1")},
			want:  []wantDiag{{"Expression too long", "main.pix.hcl:2," + fmt.Sprint(12+2*MaxOperators), nil}},
		},
		"binary chain": {
			files: map[string]string{"main.pix.hcl": image(rep(`"a"==`, deep) + `"a"`)},
			want:  []wantDiag{{"Expression too long", "main.pix.hcl:2," + fmt.Sprint(12+5*MaxOperators+3), nil}},
		},
		"binary chain over lines in parentheses": {
			files: map[string]string{"main.pix.hcl": image("(" + rep("1 +\n", deep) + "1)")},
			want:  []wantDiag{{"Expression too long", "main.pix.hcl:" + fmt.Sprint(2+MaxOperators) + ",3", nil}},
		},
		"conditional chain": {
			files: map[string]string{"main.pix.hcl": image(rep("true ? 1 : ", deep) + "1")},
			want:  []wantDiag{{"Expression too long", "main.pix.hcl:2," + fmt.Sprint(12+11*MaxOperators+5), nil}},
		},
		"splat chain": {
			files: map[string]string{"main.pix.hcl": "locals {\n  a = [1]\n  b = local.a" + rep("[*].b", deep) + "\n}\n" + image(`"x"`)},
			want:  []wantDiag{{"Expression too long", "main.pix.hcl:3,", nil}},
		},
		"many short expressions": {
			// Each element, attribute and argument starts its own chain.
			files: map[string]string{"main.pix.hcl": "locals {\n  b = { c = 1 }\n" + numbered("  a%d = !!true && -1 < 2 ? local.b.c : 1\n", 5000) +
				"  l = [" + rep("-1 + 2, ", 20000) + "-1]\n  m = {\n" + numbered("    k%d = -1 * 2\n", 5000) + "  }\n" +
				"  n = {" + numbered("x%d = 1 - 1, ", 5000) + "}\n  f = max(" + rep("-1 * 2, ", 5000) + "1)\n}\n" + image(`"x"`)},
		},
		"closers only after their openers": {
			// A stray closer does not lower the count.
			files: map[string]string{"main.pix.hcl": image(rep("(]", 300))},
			want:  []wantDiag{{tooDeep, "main.pix.hcl:2," + fmt.Sprint(12+2*255), nil}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := writeDir(t, tc.files)
			cfg, diags := Load(dir, tc.opts)
			if cfg == nil {
				t.Fatal("Load returned a nil Config")
			}
			if tc.want == nil {
				if diags.HasErrors() {
					t.Fatalf("unexpected errors:%s", render(diags))
				}
				return
			}
			var found bool
			for _, d := range diags {
				if d.Summary != tc.want[0].summary {
					continue
				}
				found = true
				if got := at(d); got != tc.want[0].at && !(strings.HasSuffix(tc.want[0].at, ",") && strings.HasPrefix(got, tc.want[0].at)) {
					t.Errorf("%s at %s, want %s", d.Summary, at(d), tc.want[0].at)
				}
				if d.Subject.End.Byte <= d.Subject.Start.Byte {
					t.Errorf("empty range %v", d.Subject)
				}
				for _, s := range tc.want[0].detail {
					if !strings.Contains(d.Detail, s) {
						t.Errorf("detail %q lacks %q", d.Detail, s)
					}
				}
				if _, ok := cfg.Files[d.Subject.Filename]; !ok && !strings.HasPrefix(d.Subject.Filename, "<") {
					t.Errorf("no source for %s, to show the diagnostic with", d.Subject.Filename)
				}
			}
			if !found {
				t.Errorf("no %q diagnostic; got:%s", tc.want[0].summary, render(diags))
			}
		})
	}
}

// numbered repeats format n times, with the count 0..n-1 as its verb.
func numbered(format string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, format, i)
	}
	return b.String()
}

func TestFormatNesting(t *testing.T) {
	src := []byte("image \"a\" {\n  prompt = " + strings.Repeat("(", 100000) + "\n}\n")
	out, diags := Format(src, "main.pix.hcl")
	if out != nil || !diags.HasErrors() || diags[0].Summary != "Expression nested too deeply" {
		t.Fatalf("Format = %q, %s", out, render(diags))
	}
	if got := at(diags[0]); got != "main.pix.hcl:2,267" {
		t.Errorf("at %s", got)
	}
}

// TestQuickNesting: the byte scan clears ordinary sources and leaves to the
// exact check what it does not follow or what is near the limits.
func TestQuickNesting(t *testing.T) {
	rep := strings.Repeat
	tests := map[string]struct {
		src  string
		want bool
	}{
		"example":                {"image \"a\" {\n  prompt = \"${local.city}, ${var.theme} lights\" # note\n  seed = 1 + 2\n}\n", true},
		"at the limit":           {rep("(", MaxNesting) + rep(")", MaxNesting), true},
		"over the limit":         {rep("(", MaxNesting+1), false},
		"interpolations":         {"a = \"" + rep("${\"", MaxNesting+1) + "\"", false},
		"brackets in text":       {"a = \"" + rep("(", 1000) + "\" // " + rep("[", 1000) + "\n# " + rep("{", 1000) + "\n", true},
		"escaped sequences":      {"a = \"$${" + rep("(", 1000) + "\\${\"", true},
		"heredoc":                {"a = <<EOT\nx\nEOT\n", false},
		"block comment":          {"/* x */\n", false},
		"directive":              {"a = \"%{ if true }x%{ endif }\"", false},
		"strip marker":           {"a = \"${ x ~}\"", false},
		"} past a bracket":       {"a = \"${ ( }\"", false},
		"operators at the limit": {"a = " + rep("!", MaxOperators) + "x", true},
		"operators over":         {"a = " + rep("!", MaxOperators+1) + "x", false},
		"operators reset":        {rep("a = -1\n", 2*MaxOperators) + "b = [" + rep("-1, ", 2*MaxOperators) + "]", true},
		"no reset in brackets":   {"a = (" + rep("1 +\n", MaxOperators+1) + "1)", false},
		"no reset after comment": {"a = " + rep("!x # c\n", MaxOperators+1), false},
		"comparison is no reset": {"a = " + rep("1 <= ", MaxOperators+1), false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := quickNestingOK([]byte(tc.src)); got != tc.want {
				t.Errorf("quickNestingOK = %v, want %v", got, tc.want)
			}
		})
	}
}
