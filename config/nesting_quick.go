package config

// quickNestingOK reports, from one pass over the bytes, that src is
// certainly within MaxNesting and MaxOperators, so that checkNesting need
// not run HCL's lexer (which allocates a token for every word of the
// file). It follows the lexer's modes for code, quoted strings, ${
// sequences and line comments, counts every operator byte and resets the
// count only where the lexer's tokens surely would; anything it does not
// follow exactly (heredocs, /* comments, ~, %{ directives, a } that would
// close a sequence past an open bracket) makes it answer false, and so
// does any depth or count over the limits: the exact check then decides.
func quickNestingOK(src []byte) bool {
	const (
		kParen = iota
		kBrack
		kBrace
		kInterp
		kQuoted
	)
	type frame struct {
		kind int
		ops  int
	}
	stack := make([]frame, 1, 16) // the root is code
	stack[0].kind = kBrace
	depth, ops := 0, 0
	push := func(kind int) bool {
		stack = append(stack, frame{kind: kind})
		depth++
		return depth <= MaxNesting
	}
	pop := func() {
		top := stack[len(stack)-1]
		ops -= top.ops
		stack = stack[:len(stack)-1]
		depth--
	}
	op := func() bool {
		stack[len(stack)-1].ops++
		ops++
		return ops <= MaxOperators
	}
	reset := func() {
		top := &stack[len(stack)-1]
		ops -= top.ops
		top.ops = 0
	}
	n := len(src)
	for i := 0; i < n; i++ {
		top := stack[len(stack)-1].kind
		// Bytes that neither mode below acts on are passed over at once.
		if top == kQuoted {
			for i < n && !quotedBytes[src[i]] {
				i++
			}
		} else {
			for i < n && !codeBytes[src[i]] {
				i++
			}
		}
		if i == n {
			break
		}
		c := src[i]
		if top == kQuoted {
			switch {
			case c == '"':
				stack = stack[:len(stack)-1] // strings are not levels
			case c == '\\' && i+1 < n && src[i+1] != '\n' && src[i+1] != '\r':
				i++
			case (c == '$' || c == '%') && i+2 < n && src[i+1] == c && src[i+2] == '{':
				i += 2 // $${ and %%{ are literal
			case c == '%' && i+1 < n && src[i+1] == '{':
				return false
			case c == '$' && i+1 < n && src[i+1] == '{':
				i++
				if !push(kInterp) {
					return false
				}
			}
			continue
		}
		switch c {
		case '"':
			stack = append(stack, frame{kind: kQuoted})
		case '#':
			// The comment takes its newline, which then resets nothing.
			for i+1 < n && src[i] != '\n' {
				i++
			}
		case '/':
			switch {
			case i+1 < n && src[i+1] == '/':
				for i+1 < n && src[i] != '\n' {
					i++
				}
			case i+1 < n && src[i+1] == '*':
				return false
			default:
				if !op() {
					return false
				}
			}
		case '<':
			if i+1 < n && src[i+1] == '<' {
				return false
			}
			if !op() {
				return false
			}
		case '~':
			return false
		case '(':
			if !push(kParen) {
				return false
			}
		case '[':
			if i+1 < n && src[i+1] == '*' && !op() {
				return false
			}
			if !push(kBrack) {
				return false
			}
		case '{':
			if !push(kBrace) {
				return false
			}
		case ')':
			if top == kParen {
				pop()
			}
		case ']':
			if top == kBrack {
				pop()
			}
		case '}':
			switch {
			case len(stack) == 1:
				// A stray } at the top level.
			case top == kBrace || top == kInterp:
				pop()
			default:
				return false
			}
		case ',':
			reset()
		case '\n':
			if top != kParen && top != kBrack {
				reset()
			}
		case '=':
			prev := byte(0)
			if i > 0 {
				prev = src[i-1]
			}
			switch {
			case prev == '=' || prev == '!' || prev == '<' || prev == '>' || (i+1 < n && src[i+1] == '='):
				if !op() {
					return false
				}
			default: // = or =>
				reset()
			}
		case '+', '-', '*', '%', '!', '>', '&', '|', '?', '.':
			if !op() {
				return false
			}
		}
	}
	return true
}

// quotedBytes and codeBytes are the bytes that quickNestingOK acts on
// inside a quoted string and in code: every other byte is passed over.
var quotedBytes, codeBytes = byteSet(`"\$%`), byteSet("\"#/<~([{)]},\n=+-*%!>&|?.")

func byteSet(s string) (t [256]bool) {
	for i := range len(s) {
		t[s[i]] = true
	}
	return t
}
