package config

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// MaxNesting is the deepest nesting of brackets ((, [, {) and template
// sequences and directives (${, %{) a configuration may use. HCL's parser
// recurses through a dozen stack frames per level, so a file of nothing
// but opening parentheses would exhaust the Go stack and kill the process;
// no real configuration comes near this depth.
const MaxNesting = 256

// MaxOperators is the most operators (unary, binary, ?, splats) one
// expression may chain. HCL builds a chain as nested nodes (a+b+c is
// (a+b)+c, !!x is !(!x)) and walks them recursively, so a long enough
// chain exhausts the Go stack as deep brackets do.
const MaxOperators = 4096

// checkNesting reports the first bracket, template sequence or directive
// of src nested deeper than MaxNesting, or the first operator beyond
// MaxOperators in one expression. A one-pass byte scan (quickNestingOK)
// clears ordinary sources; the rest go through HCL's own lexer (a state
// machine with no recursion, so safe on any input) over exactly the bytes
// the parser is about to read, since a scan that disagreed with the lexer
// about where a string, heredoc or comment ends could be led to skip
// brackets the parser then recurses into. expr says src is a lone
// expression (a -var value) rather than a file.
func checkNesting(src []byte, filename string, start hcl.Pos, expr bool) hcl.Diagnostics {
	if quickNestingOK(src) {
		return nil
	}
	return lexNesting(src, filename, start, expr)
}

// lexWindow is how many bytes of a file lexNesting lexes at a time: HCL's
// lexer makes a token of every word and bracket (some 100 bytes each), so
// the tokens of a whole large file would take many times its size.
var lexWindow = 64 << 10

// lexMargin is how close to the end of a window a token may end and still
// be counted: one nearer may be cut short by the window's end.
const lexMargin = 256

// lexNesting is checkNesting's exact check, on HCL's tokens. A file is
// lexed one window at a time, so that its tokens never all exist at once:
// the tokens of a window are those of the whole file up to where the window
// cuts one short (trustedTokens), and of those it counts up to the last
// line break at the top level, where the lexer starts afresh; the next
// window starts after it. A window with no such line break is lexed again
// larger, unless a level or an operator is over the limit in it already.
func lexNesting(src []byte, filename string, start hcl.Pos, expr bool) hcl.Diagnostics {
	if expr {
		toks, _ := hclsyntax.LexExpression(src, filename, start)
		diags, _ := scanNesting(toks)
		return diags
	}
	off, pos, window := 0, start, lexWindow
	for {
		end := min(off+window, len(src))
		toks, _ := hclsyntax.LexConfig(src[off:end], filename, pos)
		n := len(toks)
		if end < len(src) {
			n = trustedTokens(toks, start.Byte+end)
		}
		diags, stop := scanNesting(toks[:n])
		switch {
		case diags.HasErrors() || end == len(src):
			return diags
		case stop < 0:
			window *= 2 // no place to stop: lex a larger window
		default:
			r := toks[stop].Range.End
			off, pos, window = r.Byte-start.Byte, r, lexWindow
		}
	}
}

// trustedTokens returns how many of the tokens of a window of the source
// that ends at byte cut are the whole file's tokens: those that end more
// than lexMargin before cut, up to the first /* or << whose comment or
// heredoc may end beyond cut (lexed alone, it is two operators and code).
func trustedTokens(toks hclsyntax.Tokens, cut int) int {
	for i, t := range toks {
		if t.Range.End.Byte > cut-lexMargin {
			return i
		}
		if i+1 < len(toks) && t.Range.End.Byte == toks[i+1].Range.Start.Byte &&
			(t.Type == hclsyntax.TokenSlash && toks[i+1].Type == hclsyntax.TokenStar ||
				t.Type == hclsyntax.TokenLessThan && toks[i+1].Type == hclsyntax.TokenLessThan) {
			return i
		}
	}
	return len(toks)
}

// scanNesting counts the levels and operators of toks and reports the
// first beyond the limits. It returns too the index of the last line break
// at the top level (outside brackets, sequences and strings), where the
// lexer starts afresh, or -1.
func scanNesting(toks hclsyntax.Tokens) (hcl.Diagnostics, int) {
	stop, quotes := -1, 0
	// open holds one entry per level (the root first): what closes it (a
	// closing token type, or endIf or endFor for the body of an %{ if }
	// or %{ for } directive, which the template parser recurses into as
	// into brackets) and the operators of its current expression.
	type level struct {
		closer hclsyntax.TokenType
		ops    int
	}
	open := []level{{closer: endOfFile}}
	ops := 0 // the sum of open[*].ops
	pop := func(closer hclsyntax.TokenType) {
		// Only the awaited closer ends a level: a stray one (a syntax
		// error the parser reports) never lowers the count.
		if n := len(open); n > 1 && open[n-1].closer == closer {
			ops -= open[n-1].ops
			open = open[:n-1]
		}
	}
	tooDeep := func(t hclsyntax.Token, summary, detail string) hcl.Diagnostics {
		rng := t.Range
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: &rng}}
	}
	for i, t := range toks {
		var closers []hclsyntax.TokenType
		top := &open[len(open)-1]
		switch t.Type {
		case hclsyntax.TokenOQuote, hclsyntax.TokenOHeredoc:
			quotes++
			continue
		case hclsyntax.TokenCQuote, hclsyntax.TokenCHeredoc:
			quotes = max(quotes-1, 0)
			continue

		case hclsyntax.TokenOParen:
			closers = []hclsyntax.TokenType{hclsyntax.TokenCParen}
		case hclsyntax.TokenOBrack:
			if i+1 < len(toks) && toks[i+1].Type == hclsyntax.TokenStar {
				top.ops++ // a [*] splat nests what follows it
				ops++
			}
			closers = []hclsyntax.TokenType{hclsyntax.TokenCBrack}
		case hclsyntax.TokenOBrace:
			closers = []hclsyntax.TokenType{hclsyntax.TokenCBrace}
		case hclsyntax.TokenTemplateInterp:
			closers = []hclsyntax.TokenType{hclsyntax.TokenTemplateSeqEnd}
		case hclsyntax.TokenTemplateControl:
			switch directive(toks, i) {
			case "if":
				closers = append(closers, endIf)
			case "for":
				closers = append(closers, endFor)
			case "endif":
				pop(endIf)
			case "endfor":
				pop(endFor)
			}
			closers = append(closers, hclsyntax.TokenTemplateSeqEnd)
		case hclsyntax.TokenCParen, hclsyntax.TokenCBrack, hclsyntax.TokenCBrace, hclsyntax.TokenTemplateSeqEnd:
			pop(t.Type)
			continue
		case hclsyntax.TokenComma, hclsyntax.TokenEqual, hclsyntax.TokenFatArrow, hclsyntax.TokenNewline:
			if t.Type == hclsyntax.TokenNewline && len(open) == 1 && quotes == 0 {
				stop = i
			}
			// The end of one element, attribute or argument: the next
			// starts a new chain. Inside parentheses and brackets a
			// newline continues the expression.
			if t.Type != hclsyntax.TokenNewline || (top.closer != hclsyntax.TokenCParen && top.closer != hclsyntax.TokenCBrack) {
				ops -= top.ops
				top.ops = 0
			}
			continue
		case hclsyntax.TokenPlus, hclsyntax.TokenMinus, hclsyntax.TokenStar, hclsyntax.TokenSlash, hclsyntax.TokenPercent,
			hclsyntax.TokenAnd, hclsyntax.TokenOr, hclsyntax.TokenBang, hclsyntax.TokenEqualOp, hclsyntax.TokenNotEqual,
			hclsyntax.TokenLessThan, hclsyntax.TokenLessThanEq, hclsyntax.TokenGreaterThan, hclsyntax.TokenGreaterThanEq,
			hclsyntax.TokenQuestion, hclsyntax.TokenDot:
			top.ops++
			ops++
			if ops > MaxOperators {
				return tooDeep(t, "Expression too long",
					fmt.Sprintf("This %q is operator %d of one expression, and pixform reads at most %d in a chain, far more than any configuration needs. Split the expression: compute its parts in local values and combine those.",
						string(t.Bytes), ops, MaxOperators)), stop
			}
			continue
		default:
			continue
		}
		for _, c := range closers {
			open = append(open, level{closer: c})
		}
		if len(open)-1 > MaxNesting {
			return tooDeep(t, "Expression nested too deeply",
				fmt.Sprintf("This %s opens level %d of nested brackets, template sequences and directives, and pixform reads at most %d, far more than any configuration needs. Simplify the expression: compute its inner parts in local values and refer to them.",
					tokenWord(t), len(open)-1, MaxNesting)), stop
		}
	}
	return nil, stop
}

// Pseudo token types that close the body of a template directive.
const (
	endIf     hclsyntax.TokenType = -1
	endFor    hclsyntax.TokenType = -2
	endOfFile hclsyntax.TokenType = -3
)

// directive returns the keyword after the %{ at toks[i], or "".
func directive(toks hclsyntax.Tokens, i int) string {
	if i+1 < len(toks) && toks[i+1].Type == hclsyntax.TokenIdent {
		return string(toks[i+1].Bytes)
	}
	return ""
}

// tokenWord names an opening token for a message.
func tokenWord(t hclsyntax.Token) string {
	switch t.Type {
	case hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
		return fmt.Sprintf("template sequence %q", string(t.Bytes))
	}
	return fmt.Sprintf("bracket %q", string(t.Bytes))
}

// parseConfig is hclsyntax.ParseConfig behind checkNesting: every parse of
// a configuration or variable file goes through it. Sources in parseFast's
// subset get the same tree from it, without HCL's tokens. Source nested too
// deeply is not parsed; its file has an empty body and the source bytes,
// for the diagnostic writer.
func parseConfig(src []byte, filename string, start hcl.Pos) (*hcl.File, hcl.Diagnostics) {
	return parseConfigOpts(src, filename, start, false)
}

// parseConfigOpts is parseConfig; with simple, image blocks of the simple
// form are kept as their source (parseFastOpts).
func parseConfigOpts(src []byte, filename string, start hcl.Pos, simple bool) (*hcl.File, hcl.Diagnostics) {
	if diags := checkNesting(src, filename, start, false); diags.HasErrors() {
		body := &hclsyntax.Body{
			Attributes: hclsyntax.Attributes{},
			SrcRange:   hcl.Range{Filename: filename, Start: start, End: start},
			EndRange:   hcl.Range{Filename: filename, Start: start, End: start},
		}
		return &hcl.File{Body: body, Bytes: src}, diags
	}
	if f, ok := parseFastOpts(src, filename, start, simple); ok {
		return f, nil
	}
	f, diags := hclsyntax.ParseConfig(src, filename, start)
	if diags.HasErrors() {
		if d := conflictMarkers(src, filename, start); d != nil {
			return f, hcl.Diagnostics{d}
		}
	}
	return f, collapseUnclosedQuote(diags, src, start)
}

// conflictMarkers is the diagnostic of source that does not parse because
// a merge left git's conflict markers in it (<<<<<<<, then =======, then
// >>>>>>>, each at the start of a line), at the first one; nil when it
// holds no such sequence. HCL would report each marker as a missing
// argument.
func conflictMarkers(src []byte, filename string, start hcl.Pos) *hcl.Diagnostic {
	var first hcl.Range
	stage := 0 // markers seen in order
	pos := start
	for line := range bytes.Lines(src) {
		l := bytes.TrimRight(line, "\r\n")
		switch {
		case stage == 0 && (bytes.HasPrefix(l, []byte("<<<<<<< ")) || bytes.Equal(l, []byte("<<<<<<<"))):
			end := pos
			end.Column += len(l)
			end.Byte += len(l)
			first, stage = hcl.Range{Filename: filename, Start: pos, End: end}, 1
		case stage == 1 && bytes.Equal(l, []byte("=======")):
			stage = 2
		case stage == 2 && (bytes.HasPrefix(l, []byte(">>>>>>> ")) || bytes.Equal(l, []byte(">>>>>>>"))):
			return &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unresolved merge conflict",
				Detail:   "This file holds git's conflict markers (<<<<<<<, =======, >>>>>>>) from a merge: keep the lines you want, delete the markers, then run pixform validate.",
				Subject:  &first,
			}
		}
		pos.Line++
		pos.Column = 1
		pos.Byte += len(line)
	}
	return nil
}

func otherErrors(n int) string {
	if n == 1 {
		return "other error"
	}
	return fmt.Sprintf("%d other errors", n)
}

// collapseUnclosedQuote replaces the cascade of one missing closing quote
// with one diagnostic that leads with the cause. HCL reads everything after
// an unclosed quote as part of the string and reports "Invalid multi-line
// string" at the end of every line that follows, to the end of the file
// (and sometimes "Unterminated template string" last); each diagnostic
// from the first of those lines on follows from the one missing quote. A
// string split over lines but closed is no cascade: its run of
// diagnostics stops before the end of the file.
func collapseUnclosedQuote(diags hcl.Diagnostics, src []byte, start hcl.Pos) hcl.Diagnostics {
	var lines []int // of the "Invalid multi-line string" diagnostics
	for _, d := range diags {
		if d.Summary == "Invalid multi-line string" && d.Subject != nil {
			lines = append(lines, d.Subject.Start.Line)
		}
	}
	if len(lines) == 0 {
		return diags
	}
	slices.Sort(lines)
	text := strings.Split(string(src), "\n")
	blankBetween := func(a, b int) bool { // lines a+1 .. b-1 hold nothing
		for l := a + 1; l < b; l++ {
			if i := l - start.Line; i >= 0 && i < len(text) && strings.TrimSpace(text[i]) != "" {
				return false
			}
		}
		return true
	}
	lastLine := start.Line + len(text) - 1
	for lastLine > start.Line && strings.TrimSpace(text[lastLine-start.Line]) == "" {
		lastLine--
	}
	if !blankBetween(lines[len(lines)-1], lastLine+1) {
		return diags // the run stops before the end: a string closed later
	}
	// The cascade starts after the last gap of non-blank lines.
	first := lines[len(lines)-1]
	for i := len(lines) - 2; i >= 0 && blankBetween(lines[i], first); i-- {
		first = lines[i]
	}
	var cause *hcl.Diagnostic
	var kept hcl.Diagnostics
	dropped := 0
	for _, d := range diags {
		if d.Subject != nil && d.Subject.Start.Line >= first {
			if cause == nil && d.Summary == "Invalid multi-line string" && d.Subject.Start.Line == first {
				cause = d
			} else {
				dropped++
			}
			continue
		}
		kept = append(kept, d)
	}
	subject := *cause.Subject
	detail := fmt.Sprintf("The quoted string on line %d has no closing quote, so everything after it", first)
	if dropped > 0 {
		detail += fmt.Sprintf(" (to line %d) was read as part of the string; the %s HCL reported there all follow from this one.", lastLine, otherErrors(dropped))
	} else {
		detail += " was read as part of the string."
	}
	detail += ` Add the closing " where the string should end; to write a multi-line string, use \n or a heredoc (<<EOT).`
	return append(kept, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Missing closing quote",
		Detail:   detail,
		Subject:  &subject,
	})
}
