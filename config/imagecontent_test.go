package config

import (
	"reflect"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// TestImageContentMatchesHCL: imageContent returns what Content returns
// for every image block body, the ones it takes itself and the others.
func TestImageContentMatchesHCL(t *testing.T) {
	schema := imageSchema()
	for _, tc := range []struct {
		src  string
		fast bool
	}{
		{"prompt = \"a\"\nseed = 1\npath = \"a.png\"\n", true},
		{"", true},
		{"for_each = local.views\nprompt = \"${each.value}\"\naspect_ratio = \"16:9\"\n", true},
		{"prompt = \"a\"\npromt = \"b\"\n", false},
		{"prompt = \"a\"\ninputs {\n}\n", false},
		{"prompt {\n}\n", false},
	} {
		f, diags := hclsyntax.ParseConfig([]byte("image \"a\" {\n"+tc.src+"}\n"), "t.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%q: %s", tc.src, diags)
		}
		body := f.Body.(*hclsyntax.Body).Blocks[0].Body
		got, gotDiags := imageContent(body, schema)
		want, wantDiags := body.Content(schema)
		if !reflect.DeepEqual(gotDiags, wantDiags) {
			t.Errorf("%q: diagnostics %v, want %v", tc.src, gotDiags, wantDiags)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: content %#v, want %#v", tc.src, got, want)
		}
		fast := len(body.Blocks) == 0 && len(wantDiags) == 0
		if fast != tc.fast {
			t.Errorf("%q: taken as it is %v, want %v", tc.src, fast, tc.fast)
		}
	}
}

// TestImageAttrsMatchesContent: imageAttrs finds, under each name of the
// schema, the attribute imageContent finds, with its diagnostics.
func TestImageAttrsMatchesContent(t *testing.T) {
	schema := imageSchema()
	for _, src := range []string{
		"prompt = \"a\"\nseed = 1\npath = \"a.png\"\n",
		"",
		"for_each = local.views\nprompt = \"${each.value}\"\naspect_ratio = \"16:9\"\n",
		"from = image.a\noperation = \"upscale\"\nmask = \"m.png\"\ntransparent = true\nresize = { width = 1 }\ncrop = \"1:1\"\nquality = 80\ncandidates = 2\nstyle = \"anime\"\ncount = 2\n",
		"prompt = \"a\"\npromt = \"b\"\n",
		"prompt = \"a\"\ninputs {\n}\n",
		"prompt {\n}\n",
	} {
		f, diags := hclsyntax.ParseConfig([]byte("image \"a\" {\n"+src+"}\n"), "t.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%q: %s", src, diags)
		}
		body := f.Body.(*hclsyntax.Body).Blocks[0].Body
		got, gotDiags := imageAttrs(body, schema)
		want, wantDiags := imageContent(body, schema)
		if !reflect.DeepEqual(gotDiags, wantDiags) {
			t.Errorf("%q: diagnostics %v, want %v", src, gotDiags, wantDiags)
		}
		n := 0
		for _, as := range schema.Attributes {
			s := got.slot(as.Name)
			if s == nil {
				t.Fatalf("no slot for %s", as.Name)
			}
			if !reflect.DeepEqual(*s, want.Attributes[as.Name]) {
				t.Errorf("%q: %s is %#v, want %#v", src, as.Name, *s, want.Attributes[as.Name])
			}
			if *s != nil {
				n++
			}
		}
		if n != len(want.Attributes) {
			t.Errorf("%q: %d attributes, want %d", src, n, len(want.Attributes))
		}
	}
}
