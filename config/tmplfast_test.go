package config

import (
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/pixform/pixform/addrs"
)

// TestInstTemplate: a prepared template renders, for every instance it
// takes, exactly the value HCL evaluates in the instance's context, and
// declines the rest (which HCL then evaluates, with its diagnostics).
func TestInstTemplate(t *testing.T) {
	l := &loader{base: &hcl.EvalContext{Variables: map[string]cty.Value{
		"var": cty.ObjectVal(map[string]cty.Value{
			"theme": cty.StringVal("neon"),
			"n":     cty.NumberIntVal(3),
			"null":  cty.NullVal(cty.String),
		}),
		"local": cty.ObjectVal(map[string]cty.Value{
			"city":   cty.StringVal("a city at night, café"),
			"e":      cty.StringVal("e\u0301"), // NFC joins it with what follows
			"secret": cty.StringVal("s").Mark("sensitive"),
		}),
	}}}
	str := func(k, v string) instance {
		return instance{addr: addrs.Addr{Name: "v", Kind: addrs.StringKey, Key: k}, key: k, each: cty.StringVal(v)}
	}
	insts := map[string]instance{
		"string value":  str("k1", "view number 1"),
		"unicode value": str("ké", "\u0301 accent"),
		"empty":         str("", ""),
		"object value":  {addr: addrs.Addr{Name: "v", Kind: addrs.StringKey, Key: "o"}, key: "o", each: cty.ObjectVal(map[string]cty.Value{"a": cty.StringVal("x")})},
		"number value":  {addr: addrs.Addr{Name: "v", Kind: addrs.StringKey, Key: "n"}, key: "n", each: cty.NumberIntVal(7)},
		"null value":    {addr: addrs.Addr{Name: "v", Kind: addrs.StringKey, Key: "z"}, key: "z", each: cty.NullVal(cty.String)},
		"count 0":       {addr: addrs.Addr{Name: "v", Kind: addrs.IntKey, Index: 0}, key: "0"},
		"count 12":      {addr: addrs.Addr{Name: "v", Kind: addrs.IntKey, Index: 12}, key: "12"},
	}
	for _, tc := range []struct {
		src      string
		prepared bool // prepareTemplate takes it
	}{
		{`"${local.city}, ${var.theme} lights, ${each.value}"`, true},
		{`"assets/views/${each.key}.png"`, true},
		{`"${each.key}${each.value}"`, true},
		{`"img-${count.index}.png"`, true},
		{`"${local.e}${each.value}"`, true},
		{`"plain"`, true},
		{`"${var.n} ${each.key}"`, false},
		{`"${var.null}${each.key}"`, false},
		{`"${local.secret}${each.key}"`, false},
		{`"${local.missing}${each.key}"`, false},
		{`"${each.value.a}"`, false},
		{`"${upper(each.key)}"`, false},
		{`"${each.key}"`, false}, // a lone interpolation is not a template
	} {
		f, diags := hclsyntax.ParseConfig([]byte("a = "+tc.src+"\n"), "t.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		expr := f.Body.(*hclsyntax.Body).Attributes["a"].Expr
		tmpl := prepareTemplate(expr, l.base)
		if (tmpl != nil) != tc.prepared {
			t.Errorf("%s: prepared = %v, want %v", tc.src, tmpl != nil, tc.prepared)
		}
		if tmpl == nil {
			continue
		}
		rendered := 0
		for name, in := range insts {
			got, ok := tmpl.render(&in)
			if !ok {
				continue
			}
			rendered++
			want, diags := expr.Value(l.instanceContext(in))
			if diags.HasErrors() || !got.RawEquals(want) {
				t.Errorf("%s, %s: render = %#v, HCL = %#v (%v)", tc.src, name, got, want, diags)
			}
		}
		if rendered < 2 {
			t.Errorf("%s: rendered for only %d instances", tc.src, rendered)
		}
	}
}

// constBase is the context TestConstTemplate and FuzzConstTemplate
// evaluate in.
func constBase() *hcl.EvalContext {
	return &hcl.EvalContext{Variables: map[string]cty.Value{
		"var": cty.ObjectVal(map[string]cty.Value{
			"theme": cty.StringVal("neon"),
			"n":     cty.NumberIntVal(3),
			"null":  cty.NullVal(cty.String),
			"u":     cty.UnknownVal(cty.String),
		}),
		"local": cty.ObjectVal(map[string]cty.Value{
			"city":   cty.StringVal("a city at night, café"),
			"e":      cty.StringVal("e\u0301"),
			"secret": cty.StringVal("s").Mark("sensitive"),
			"list":   cty.ListVal([]cty.Value{cty.StringVal("x")}),
		}),
	}}
}

// TestConstTemplate: what constTemplate joins is the value HCL evaluates,
// with no diagnostic; what it declines, HCL evaluates.
func TestConstTemplate(t *testing.T) {
	base := constBase()
	for _, tc := range []struct {
		src  string
		fast bool
	}{
		{`"${local.city}, ${var.theme} lights, view 0"`, true},
		{`"16:9"`, true},
		{`"assets/set0/img0.png"`, true},
		{`"${local.e}\u0301x"`, true},
		{`""`, true},
		{`"a${var.theme}"`, true},
		{`"${var.n} x"`, false},
		{`"${var.null}x"`, false},
		{`"${var.u}x"`, false},
		{`"${local.secret}x"`, false},
		{`"${local.list}x"`, false},
		{`"${local.missing}x"`, false},
		{`"${each.key}x"`, false},
		{`"${var.theme}"`, false},
		{`"%{if true}a%{endif}"`, false},
		{`var.theme`, false},
		{`1`, false},
	} {
		expr, diags := hclsyntax.ParseExpression([]byte(tc.src), "t.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", tc.src, diags)
		}
		got, ok := constTemplate(expr, base)
		if ok != tc.fast {
			t.Errorf("%s: joined = %v, want %v", tc.src, ok, tc.fast)
		}
		if !ok {
			continue
		}
		want, diags := expr.Value(base)
		if diags.HasErrors() || !got.RawEquals(want) {
			t.Errorf("%s: got %#v, HCL evaluates %#v (%s)", tc.src, got, want, diags)
		}
	}
}

func FuzzConstTemplate(f *testing.F) {
	for _, s := range []string{`"${local.city}, ${var.theme} lights, view 0"`, `"a${local.e}b"`, `"${var.n}"`, `"x\u00e9${var.theme}"`} {
		f.Add(s)
	}
	base := constBase()
	f.Fuzz(func(t *testing.T, src string) {
		expr, diags := hclsyntax.ParseExpression([]byte(src), "t.hcl", hcl.InitialPos)
		if diags.HasErrors() || expr == nil {
			return
		}
		got, ok := constTemplate(expr, base)
		if !ok {
			return
		}
		want, diags := expr.Value(base)
		if diags.HasErrors() || !got.RawEquals(want) {
			t.Errorf("%q: got %#v, HCL evaluates %#v (%s)", src, got, want, diags)
		}
	})
}

// TestRootAttr: what rootAttr looks up is what HCL's traversal gives; it
// declines what it does not look up.
func TestRootAttr(t *testing.T) {
	base := constBase()
	base.Variables["nul"] = cty.NullVal(cty.Object(map[string]cty.Type{"a": cty.String}))
	base.Variables["unk"] = cty.UnknownVal(cty.Object(map[string]cty.Type{"a": cty.String}))
	base.Variables["mkd"] = cty.ObjectVal(map[string]cty.Value{"a": cty.StringVal("x")}).Mark("m")
	base.Variables["str"] = cty.StringVal("s")
	for _, src := range []string{"var.theme", "var.n", "var.null", "var.u", "local.city", "local.secret", "local.list",
		"local.missing", "nul.a", "unk.a", "mkd.a", "str.a", "nothing.a", "var", "local.list[0]", `var["theme"]`} {
		expr, diags := hclsyntax.ParseExpression([]byte(src), "t.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", src, diags)
		}
		got := rootAttr(base, expr.(*hclsyntax.ScopeTraversalExpr).Traversal)
		if got == cty.NilVal {
			continue
		}
		want, diags := expr.Value(base)
		if diags.HasErrors() || !got.RawEquals(want) {
			t.Errorf("%s: got %#v, HCL gives %#v (%s)", src, got, want, diags)
		}
	}
	if rootAttr(base, hcl.Traversal{hcl.TraverseRoot{Name: "local"}, hcl.TraverseAttr{Name: "city"}}) == cty.NilVal {
		t.Error("local.city not looked up")
	}
}

// constValueExprs are expressions constValue evaluates, and some it
// leaves to HCL.
var constValueExprs = []string{
	`{ v0 = "view number 0", v1 = "view number 1" }`,
	`{ "a" = "x", b = "in ${local.city}", c = 1, d = true, e = null }`,
	`{ b = "${local.city}" }`,
	`{ a = { b = "c" }, d = "e" }`,
	`{ a = "x", a = "y" }`,
	`{ null = 1, true = 2, false = 3 }`,
	`{ "${var.theme}" = 1 }`,
	`{ (var.theme) = 1 }`,
	`{ a.b = 1 }`,
	`{ a = var.theme }`,
	`{ a = [1] }`,
	`{ "${var.n}" = 1 }`,
	`"x${var.theme}"`,
	`1.5`,
	`{}`,
	// Keys equal once normalized (NFC): a quoted é, then a bare e and a
	// combining acute accent, and the other way round. The later wins.
	"{ \"\u00e9\" = \"composed\", e\u0301 = \"decomposed\" }",
	"{ e\u0301 = \"decomposed\", \"\u00e9\" = \"composed\" }",
}

// TestConstValue: what constValue evaluates is the value HCL evaluates,
// with no diagnostic.
func TestConstValue(t *testing.T) {
	base := constBase()
	fast := 0
	for _, src := range constValueExprs {
		expr, diags := hclsyntax.ParseExpression([]byte(src), "t.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", src, diags)
		}
		got, ok := constValue(expr, base)
		if !ok {
			t.Logf("left to HCL: %s", src)
			continue
		}
		fast++
		want, diags := expr.Value(base)
		if diags.HasErrors() || !got.RawEquals(want) {
			t.Errorf("%s: got %#v, HCL evaluates %#v (%s)", src, got, want, diags)
		}
		// The same every time (no map order shows).
		for range 50 {
			if again, _ := constValue(expr, base); !again.RawEquals(got) {
				t.Fatalf("%s: got %#v, then %#v", src, got, again)
			}
		}
	}
	if fast != 10 {
		t.Errorf("constValue evaluated %d of the expressions, want 10", fast)
	}
}

func FuzzConstValue(f *testing.F) {
	for _, s := range constValueExprs {
		f.Add(s)
	}
	base := constBase()
	f.Fuzz(func(t *testing.T, src string) {
		expr, diags := hclsyntax.ParseExpression([]byte(src), "t.hcl", hcl.InitialPos)
		if diags.HasErrors() || expr == nil {
			return
		}
		got, ok := constValue(expr, base)
		if !ok {
			return
		}
		want, diags := expr.Value(base)
		if diags.HasErrors() || !got.RawEquals(want) {
			t.Errorf("%q: got %#v, HCL evaluates %#v (%s)", src, got, want, diags)
		}
	})
}

// TestConstPartPlainRefs: constPart finds the same for every reference
// through the texts notePlainRefs noted as through base itself.
func TestConstPartPlainRefs(t *testing.T) {
	base := &hcl.EvalContext{Variables: map[string]cty.Value{
		"var": cty.ObjectVal(map[string]cty.Value{
			"a": cty.StringVal("x"), "n": cty.NumberIntVal(5), "o": cty.ObjectVal(map[string]cty.Value{"k": cty.StringVal("v")}),
			"nul": cty.NullVal(cty.String), "unk": cty.UnknownVal(cty.String), "mk": cty.StringVal("m").Mark("secret"),
		}),
		"local": cty.ObjectVal(map[string]cty.Value{"city": cty.StringVal("c"), "e": cty.StringVal("e\u0301")}),
	}}
	l := &loader{
		base:   base,
		vars:   map[string]*variable{"a": nil, "n": nil, "o": nil, "nul": nil, "unk": nil, "mk": nil, "declared": nil},
		locals: map[string]*local{"city": nil, "e": nil, "gone": nil},
	}
	var refs []hclsyntax.Expression
	for _, root := range []string{"var", "local", "each", "other"} {
		for _, name := range []string{"a", "n", "o", "nul", "unk", "mk", "declared", "city", "e", "gone", "nope", "key"} {
			refs = append(refs, &hclsyntax.ScopeTraversalExpr{Traversal: hcl.Traversal{hcl.TraverseRoot{Name: root}, hcl.TraverseAttr{Name: name}}})
		}
	}
	want := make([]string, len(refs))
	wantOK := make([]bool, len(refs))
	for i, r := range refs {
		want[i], wantOK[i] = l.constPart(r)
	}
	l.notePlainRefs()
	taken := 0
	for i, r := range refs {
		got, ok := l.constPart(r)
		if got != want[i] || ok != wantOK[i] {
			t.Errorf("%s: %q, %v; through base %q, %v", r.(*hclsyntax.ScopeTraversalExpr).Traversal.RootName(), got, ok, want[i], wantOK[i])
		}
		if ok {
			taken++
		}
	}
	if taken != 3 {
		t.Errorf("%d references taken, want 3 (var.a, local.city, local.e)", taken)
	}
}

// constAttrConfig is a configuration whose image prompt is src and whose
// seed is seed, with variables and locals of several kinds to refer to.
func constAttrConfig(src, seed string) map[string]string {
	return map[string]string{"main.pix.hcl": `
variable "theme" {
  default = "neon"
}
variable "n" {
  type    = number
  default = 3
}
variable "nothing" {
  default = null
}
locals {
  city = "Oslo"
  e    = ""
  nfd  = "e\u0301"
  list = ["a"]
  num  = 7
}
image "x" {
  prompt = ` + src + `
  seed   = ` + seed + `
  path   = "out/x.png"
}
`}
}

// FuzzConstAttr: an image whose attributes constAttr takes loads to the
// same images and diagnostics as when every attribute goes the general
// way (checkRefs, then HCL's evaluation).
func FuzzConstAttr(f *testing.F) {
	for _, s := range [][2]string{
		{`"${local.city}, ${var.theme} lights"`, `1`},
		{`"plain"`, `42`},
		{`"${var.n}"`, `var.n`},
		{`"a${local.e}b${local.nfd}"`, `0`},
		{`"${var.missing}"`, `-1`},
		{`"${local.list}"`, `1.5`},
		{`"${var.nothing}"`, `99999999999999999999`},
		{`"$${var.theme} %%{x}"`, `007`},
		{`local.city`, `local.num`},
		{`"${upper(var.theme)}"`, `"3"`},
		{`<<EOT
  ${var.theme}
EOT`, `1e3`},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, src, seed string) {
		if strings.ContainsAny(src+seed, "\x00") || len(src)+len(seed) > 400 {
			return
		}
		files := constAttrConfig(src, seed)
		dir := writeDir(t, files)
		fast, fastDiags := Load(dir, LoadOptions{NoDigest: true})
		general, generalDiags := Load(dir, LoadOptions{NoDigest: true, generalOnly: true})
		if got, want := render(fastDiags), render(generalDiags); got != want {
			t.Fatalf("prompt %s, seed %s: diagnostics%s\nthe general way:%s", src, seed, got, want)
		}
		if !reflect.DeepEqual(fast.Images, general.Images) {
			t.Fatalf("prompt %s, seed %s: images %#v\nthe general way: %#v", src, seed, fast.Images, general.Images)
		}
	})
}
