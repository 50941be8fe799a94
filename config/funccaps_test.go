package config

import (
	"strings"
	"testing"
)

// A function whose result would be many times the size of its arguments
// is refused before it makes anything, past a cap on the values and the
// bytes of text one call makes, with a diagnostic at the call that names
// the function, the size it would make and the cap; within the caps the
// functions work as before.
func TestFunctionCaps(t *testing.T) {
	tests := map[string]struct {
		locals string // the local p, and any others it uses
		want   string // "": loads
		line   string // the start of the line the diagnostic is on: "p = " when ""
	}{
		"setproduct of three ranges": {
			locals: "a = range(1000)\n  p = setproduct(local.a, local.a, local.a)",
			want:   "setproduct would make 4000000000 values, more than the 1000000 one call may make: pixform bounds the memory a configuration may use",
		},
		"setproduct within the cap": {
			locals: "a = range(100)\n  p = setproduct(local.a, local.a)",
		},
		"format with a wide width": {
			locals: `p = format("%020000000d", 1)`,
			want:   "format would make 200000",
		},
		"format within the cap": {
			locals: `p = format("%05d-%s", 1, "x")`,
		},
		"formatlist with a wide width": {
			locals: `p = formatlist("%09000000d", [1, 2])`,
			want:   "formatlist would make 180000",
		},
		"formatlist of many strings": {
			locals: `p = formatlist("icon-%s", [for i in range(1000) : format("%020d", i)])`,
		},
		"flatten of a list reached many times": {
			locals: "r = range(1000)\n  a = [for i in range(1000) : local.r]\n  p = flatten(local.a)",
			want:   "flatten would make more than the 1000000 values one call may make",
		},
		"flatten within the cap": {
			locals: "a = [for i in range(10) : range(10)]\n  p = flatten(local.a)",
		},
		"jsonencode within the cap": {
			locals: "a = [for i in range(100) : range(1000)]\n  p = jsonencode(local.a)",
		},
		"jsonencode of a list reached many times": {
			locals: "s = format(\"%0100000d\", 1)\n  p = jsonencode([for i in range(1000) : local.s])",
			want:   "jsonencode would make more than the 16777216 bytes of text (16 MiB) one call may make",
		},
		"join of a string reached many times": {
			locals: "s = format(\"%01000000d\", 1)\n  p = join(\",\", [for i in range(20) : local.s])",
			want:   "join would make more than the 16777216 bytes of text (16 MiB)",
		},
		"replace with a long replacement": {
			locals: "s = format(\"%0100000d\", 1)\n  p = replace(local.s, \"0\", local.s)",
			want:   "replace would make",
		},
		// A reviewer's: the estimate grew with the square of the text.
		"replace of every space in a long text": {
			locals: "s = join(\" \", [for i in range(1000) : \"word word word word\"])\n  p = replace(local.s, \" \", \" $ \")",
		},
		// cty's replace has no regular expressions: "/img/" is text.
		"replace of a text in slashes in a long text": {
			locals: "a = join(\" \", [for i in range(1000) : \"/img/a\"])\n  s = join(\" \", [for i in range(100) : local.a])\n  p = replace(local.s, \"/img/\", \"/assets/images/very/long/path/\")",
		},
		"regex_replace with references in a long text": {
			locals: "s = join(\" \", [for i in range(1000) : \"ab-cd\"])\n  p = regex_replace(local.s, \"(\\\\w+)-(\\\\w+)\", \"$2 $1\")",
		},
		// No function called: templates, made by HCL.
		// A reviewer's doubling chain would reach 16 GiB at a24.
		"a template doubling a local": {
			locals: "a0 = format(\"%01000000d\", 1)\n  a1 = \"${local.a0}${local.a0}\"\n  a2 = \"${local.a1}${local.a1}\"\n  a3 = \"${local.a2}${local.a2}\"\n  a4 = \"${local.a3}${local.a3}\"\n  a5 = \"${local.a4}${local.a4}\"\n  p = \"${local.a5}${local.a5}\"",
			want:   "local.a5 holds more than 16777216 bytes of text (16 MiB), the most one value may hold",
			line:   "a5 = ",
		},
		"indent by a billion spaces": {
			locals: "p = indent(1000000000, \"a\\nb\")",
			want:   "indent would make 1000000003 bytes of text",
		},
		"split into every character": {
			locals: "s = format(\"%02000000d\", 1)\n  p = split(\"\", local.s)",
			want:   "split would make 2000001 values",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			src := "locals {\n  " + tc.locals + "\n}\n\nimage \"x\" {\n  prompt = \"${length(local.p)}\"\n}\n"
			_, diags := Load(writeDir(t, map[string]string{"main.pix.hcl": src}), LoadOptions{})
			if tc.want == "" {
				if diags.HasErrors() {
					t.Fatalf("unexpected diagnostics:%s", render(diags))
				}
				return
			}
			got := render(diags)
			if !diags.HasErrors() || !strings.Contains(got, tc.want) {
				t.Fatalf("diagnostics:%s\nwant one saying %q", got, tc.want)
			}
			start := tc.line
			if start == "" {
				start = "p = "
			}
			line := strings.Count(src[:strings.Index(src, start)], "\n") + 1
			for _, d := range diags {
				if d.Subject == nil || d.Subject.Filename == "" || d.Subject.Start.Line != line {
					t.Errorf("diagnostic at %s, want main.pix.hcl line %d: %s", at(d), line, d.Detail)
				}
			}
		})
	}
}
