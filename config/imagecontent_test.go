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
