package config

import (
	"reflect"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// varsExprs are expressions whose variables exprVariables finds itself,
// and some it leaves to HCL, each alone or inside the others.
var varsExprs = []string{
	`"plain"`,
	`1`,
	`var.theme`,
	`local.views["a"]`,
	`"${local.city}, ${var.theme} lights, ${each.value}"`,
	`"${count.index}"`,
	`"${local.city}"`,
	`{ a = "x", b = var.y, "c" = "${local.z}" }`,
	`{ (var.k) = 1, local.m = 2, null = 3, true = 4 }`,
	`{ v0 = "view number 0", v1 = "view ${var.n}" }`,
	`[var.a, "b", local.c]`,
	`[for x in var.list : x if x != each.key]`,
	`{ a = [for k, v in local.m : "${k}${v}${var.q}"] }`,
	`upper(var.x)`,
	`var.a ? local.b : "c"`,
	`"%{ if var.a }x%{ endif }${local.b}"`,
	`{ a = { b = [var.c, { d = local.e }] } }`,
	`(var.x)`,
	`var.list[0].name`,
	`nope`,
	`each`,
}

func TestExprVariablesMatchesHCL(t *testing.T) {
	for _, src := range varsExprs {
		expr, diags := hclsyntax.ParseExpression([]byte(src), "t.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", src, diags)
		}
		if got, want := exprVariables(expr), expr.Variables(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\ngot  %#v\nwant %#v", src, got, want)
		}
		// The kinds it knows are walked here, not left to HCL.
		var out []hcl.Traversal
		if fast, want := appendVariables(&out, expr), !slowVars[src]; fast != want {
			t.Errorf("%s: walked here %v, want %v", src, fast, want)
		}
	}
}

// slowVars are the varsExprs that exprVariables leaves to HCL.
var slowVars = map[string]bool{
	`[for x in var.list : x if x != each.key]`:           true,
	`{ a = [for k, v in local.m : "${k}${v}${var.q}"] }`: true,
	`upper(var.x)`:                                     true,
	`var.a ? local.b : "c"`:                            true,
	`"%{ if var.a }x%{ endif }${local.b}"`:             true,
	"{ (var.k) = 1, local.m = 2, null = 3, true = 4 }": true,
	`(var.x)`:          true,
	`var.list[0].name`: false,
}

// TestExprVariablesOnParsedFiles compares exprVariables with HCL's on
// every attribute of configurations as parseConfig (the fast parser,
// when it takes the file) reads them.
func TestExprVariablesOnParsedFiles(t *testing.T) {
	src := `locals {
  views = {
    v0 = "view number 0"
    "v1" = "view ${var.n}"
  }
  list = ["a", var.b, "${local.c}"]
}
image "a" {
  for_each     = local.views
  prompt       = "${local.city}, ${var.theme} lights, ${each.value}"
  aspect_ratio = "16:9"
  seed         = 1
  path         = "assets/views/${each.key}.png"
}
`
	f, diags := parseConfig([]byte(src), "main.pix.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	n := 0
	var walk func(b *hclsyntax.Body)
	walk = func(b *hclsyntax.Body) {
		for _, a := range b.Attributes {
			n++
			if got, want := exprVariables(a.Expr), a.Expr.Variables(); !reflect.DeepEqual(got, want) {
				t.Errorf("%s:\ngot  %#v\nwant %#v", a.Name, got, want)
			}
		}
		for _, blk := range b.Blocks {
			walk(blk.Body)
		}
	}
	walk(f.Body.(*hclsyntax.Body))
	if n != 7 {
		t.Fatalf("compared %d attributes, want 7", n)
	}
}

func FuzzExprVariables(f *testing.F) {
	for _, src := range varsExprs {
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src string) {
		expr, diags := hclsyntax.ParseExpression([]byte(src), "t.hcl", hcl.InitialPos)
		if diags.HasErrors() || expr == nil {
			return
		}
		if got, want := exprVariables(expr), expr.Variables(); !reflect.DeepEqual(got, want) {
			t.Errorf("%q:\ngot  %#v\nwant %#v", src, got, want)
		}
	})
}
