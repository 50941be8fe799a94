package config

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// Format returns src in canonical HCL layout (what pixform fmt writes).
// It never formats a file that does not parse: then it returns nil and the
// parse errors, ranged in filename.
func Format(src []byte, filename string) ([]byte, hcl.Diagnostics) {
	_, diags := parseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	return hclwrite.Format(src), diags
}
