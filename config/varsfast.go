package config

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// exprVariables returns expr.Variables(): the same traversals, in the same
// order. The expressions a configuration is mostly made of (literals,
// references, string templates of them, objects of them) are walked
// here without hclsyntax's walker and its allocations; any other kind of
// expression, wherever it is, is asked for its own.
func exprVariables(expr hcl.Expression) []hcl.Traversal {
	var out []hcl.Traversal
	if !appendVariables(&out, expr) {
		return expr.Variables()
	}
	return out
}

// appendVariables appends the variables of expr to out as hclsyntax's
// Variables finds them, and reports false, leaving out as it may, when
// expr holds a kind of expression it does not know. None of the kinds it
// knows opens a child scope (as a for expression does), so that every
// reference found is one of the root scope.
func appendVariables(out *[]hcl.Traversal, expr hcl.Expression) bool {
	switch e := expr.(type) {
	case *hclsyntax.LiteralValueExpr:
		return true
	case *hclsyntax.ScopeTraversalExpr:
		*out = append(*out, e.Traversal)
		return true
	case *hclsyntax.TemplateExpr:
		for _, p := range e.Parts {
			if !appendVariables(out, p) {
				return false
			}
		}
		return true
	case *hclsyntax.TemplateWrapExpr:
		return appendVariables(out, e.Wrapped)
	case *hclsyntax.ObjectConsExpr:
		for _, item := range e.Items {
			if k, ok := item.KeyExpr.(*hclsyntax.ObjectConsKeyExpr); ok {
				// A key that reads as a keyword is a literal name, not a
				// reference (ObjectConsKeyExpr's own walk).
				if hcl.ExprAsKeyword(k.Wrapped) == "" && !appendVariables(out, k.Wrapped) {
					return false
				}
			} else if !appendVariables(out, item.KeyExpr) {
				return false
			}
			if !appendVariables(out, item.ValueExpr) {
				return false
			}
		}
		return true
	case *hclsyntax.TupleConsExpr:
		for _, x := range e.Exprs {
			if !appendVariables(out, x) {
				return false
			}
		}
		return true
	}
	return false
}
