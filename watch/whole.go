package watch

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// whole reports whether src looks like a whole configuration file rather
// than the first piece of one being written: it is not blank, it lexes
// without errors, and every bracket, quote, template sequence and heredoc
// it opens is closed. It is a lexer's check, linear and without
// recursion, not a parse: a file that is whole but wrong (an unknown
// attribute, a value of the wrong type) passes, and the plan reports it.
func whole(src []byte) bool {
	toks, diags := hclsyntax.LexConfig(src, "", hcl.InitialPos)
	if diags.HasErrors() {
		return false
	}
	depth, content := 0, false
	for _, t := range toks {
		switch t.Type {
		case hclsyntax.TokenInvalid, hclsyntax.TokenBadUTF8, hclsyntax.TokenNil:
			return false
		case hclsyntax.TokenOBrace, hclsyntax.TokenOBrack, hclsyntax.TokenOParen,
			hclsyntax.TokenOQuote, hclsyntax.TokenOHeredoc,
			hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
			depth++
		case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen,
			hclsyntax.TokenCQuote, hclsyntax.TokenCHeredoc, hclsyntax.TokenTemplateSeqEnd:
			depth--
			if depth < 0 {
				return false
			}
		case hclsyntax.TokenNewline, hclsyntax.TokenComment, hclsyntax.TokenEOF:
		default:
			content = true
		}
	}
	return depth == 0 && content
}
