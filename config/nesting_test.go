package config

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
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

// TestLexNestingWindows: lexing a file one window at a time finds what
// lexing it whole finds, at the same place, whatever the window's size:
// windows that cut tokens, strings, heredocs and comments (a /* that ends
// beyond the window), lines longer than a window.
func TestLexNestingWindows(t *testing.T) {
	rep := strings.Repeat
	lines := func(n int, line string) string { return rep(line, n) }
	srcs := map[string]string{
		"deep after blocks":       lines(400, "image \"b\" {\n  prompt = \"b\" # note (\n}\n") + "x = " + rep("(", 300),
		"deep in one long line":   "x = [" + rep("1, ", 3000) + rep("(", 300),
		"brackets in a comment":   lines(50, "a = 1\n") + "/* " + lines(100, rep("(", 10)+"\n") + "*/\n" + "y = " + rep("[", 200) + rep("]", 200) + "\n",
		"unclosed comment":        lines(50, "a = 1\n") + "/* " + lines(100, rep("(", 10)+"\n"),
		"brackets in a heredoc":   lines(50, "a = 1\n") + "h = <<EOT\n" + lines(100, rep("(", 10)+"\n") + "EOT\n" + "z = " + rep("(", 257),
		"long heredoc marker":     lines(50, "a = 1\n") + "h = <<" + rep("E", 600) + "\n" + lines(30, rep("(", 30)+"\n") + rep("E", 600) + "\n",
		"brackets in strings":     lines(200, "s = \""+rep("(", 40)+"\"\n") + "t = " + rep("{a=", 257),
		"interpolations":          lines(100, "s = \"${a}(${b})\"\n") + "u = \"" + rep("${\"", 260),
		"operators over lines":    "a = (" + rep("1 +\n", MaxOperators+1) + "1)\n",
		"operators reset":         rep("a = -1 + 2\n", 3000) + "b = 1\n",
		"operators after comment": "a = " + rep("!x # c\n", MaxOperators+1),
		"directives":              lines(100, "d = \"%{ if true }x%{ endif }\"\n") + "e = \"" + rep("%{ if true }", 300),
		"clean":                   lines(500, "image \"c\" {\n  prompt = \"${var.a} (b)\"\n  seed = 1 + 2\n}\n"),
		"crlf":                    lines(300, "a = (1)\r\n") + "b = " + rep("(", 300),
	}
	whole := func(src string) hcl.Diagnostics {
		defer func(w int) { lexWindow = w }(lexWindow)
		lexWindow = len(src) + 1
		return lexNesting([]byte(src), "f.pix.hcl", hcl.InitialPos, false)
	}
	for name, src := range srcs {
		want := whole(src)
		for _, w := range []int{1, 300, 301, 517, 1024, 4096, 20000} {
			t.Run(fmt.Sprintf("%s/%d", name, w), func(t *testing.T) {
				defer func(w int) { lexWindow = w }(lexWindow)
				lexWindow = w
				got := lexNesting([]byte(src), "f.pix.hcl", hcl.InitialPos, false)
				if render(got) != render(want) {
					t.Errorf("window %d:\n%s\nwhole:\n%s", w, render(got), render(want))
				}
			})
		}
	}
}

// TestLexNestingMemory: the exact check of a file of nothing but
// parentheses stops at the level past the limit, with no token of the
// rest of the file: it allocates a small part of what lexing all of it
// would (hundreds of MB for these 2 MB).
func TestLexNestingMemory(t *testing.T) {
	src := []byte("image \"a\" {\n  prompt = " + strings.Repeat("(", 2<<20) + "\n}\n")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	diags := checkNesting(src, "main.pix.hcl", hcl.InitialPos, false)
	runtime.ReadMemStats(&after)
	if !diags.HasErrors() || at(diags[0]) != "main.pix.hcl:2,267" {
		t.Fatalf("checkNesting: %s", render(diags))
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 32<<20 {
		t.Errorf("checkNesting of %d bytes allocated %d MB, want at most 32", len(src), got>>20)
	}
}
