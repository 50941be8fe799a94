package config

import (
	"bytes"
	"fmt"
	"math/big"
	"slices"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// parseFast parses src into the syntax tree hclsyntax.ParseConfig would
// build, when src is in the plain subset of HCL that most configurations
// are written in, and reports false otherwise: the caller then parses with
// hclsyntax, which also gives every diagnostic. HCL's lexer builds a token
// for every word, counting each token's columns grapheme by grapheme, and
// that was most of a large plan's time.
//
// The subset: printable ASCII, tabs and \n; # and // comments; attributes
// and multi-line blocks with quoted or bare labels; as values, quoted
// strings (escapes \n \t \r \" \\, interpolations of references),
// references (a.b.c), whole decimal numbers, true, false, null, and
// objects of such values. Anything else, and anything hclsyntax would
// report a diagnostic for, is refused. Positions are exact because, in
// ASCII without \r, a column is one byte.
func parseFast(src []byte, filename string, start hcl.Pos) (*hcl.File, bool) {
	return parseFastOpts(src, filename, start, false)
}

// parseFastOpts is parseFast; with simple, the top-level image blocks of
// the simple form (simpleImage) are kept as their source, without syntax
// trees, in a lazyFile, when the top level holds only blocks that
// rootSchema takes.
func parseFastOpts(src []byte, filename string, start hcl.Pos, simple bool) (*hcl.File, bool) {
	p := &fastParser{src: src, filename: filename, base: start, line: start.Line, col0: start.Column, simple: simple}
	if simple {
		p.kept = make([]keptBlock, 0, bytes.Count(src, []byte("\nimage "))+1)
	}
	for _, c := range src {
		if c < 0x20 && c != '\n' && c != '\t' {
			return nil, false
		}
	}
	body, ok := p.file()
	if !ok {
		return nil, false
	}
	if len(p.kept) > 0 {
		lf, ok := keptFile(body, p.kept)
		if !ok {
			return parseFastOpts(src, filename, start, false)
		}
		return &hcl.File{Body: lf, Bytes: src, Nav: &blockNav{blocks: lf.nav}}, true
	}
	return &hcl.File{Body: body, Bytes: src, Nav: fastNav{root: body}}, true
}

// fastParser is parseFast's state: the offset it has read to and the line
// it is on.
type fastParser struct {
	src      []byte
	filename string
	base     hcl.Pos
	off      int
	line     int
	// lineStart is the offset of the current line's first byte, and col0
	// that byte's column (base.Column on the first line, 1 after).
	lineStart int
	col0      int
	// names holds the identifiers read so far, up to maxNames of them,
	// so that a name repeated in every block (prompt, path, local, city)
	// is one string, not one allocation each time.
	names map[string]string
	// simple keeps top-level image blocks of the simple form as source,
	// in kept (parseFastOpts).
	simple bool
	kept   []keptBlock
	// noDecode makes literal check text without decoding it.
	noDecode bool
}

// maxNames bounds fastParser.names: names past it (the keys of a long
// object, each used once) are not kept.
const maxNames = 256

// name returns the identifier src[a:b] as a string.
func (p *fastParser) name(a, b int) string {
	if s, ok := p.names[string(p.src[a:b])]; ok {
		return s
	}
	s := string(p.src[a:b])
	if len(p.names) < maxNames {
		if p.names == nil {
			p.names = make(map[string]string, 32)
		}
		p.names[s] = s
	}
	return s
}

// pos is the position of offset o, which must be on the current line.
func (p *fastParser) pos(o int) hcl.Pos {
	return hcl.Pos{Line: p.line, Column: p.col0 + o - p.lineStart, Byte: p.base.Byte + o}
}

// rng is the range of bytes [a, b) of the current line.
func (p *fastParser) rng(a, b int) hcl.Range {
	return hcl.Range{Filename: p.filename, Start: p.pos(a), End: p.pos(b)}
}

// at returns the byte at offset o, or 0 past the end.
func (p *fastParser) at(o int) byte {
	if o < len(p.src) {
		return p.src[o]
	}
	return 0
}

func (p *fastParser) eof() bool { return p.off >= len(p.src) }

func (p *fastParser) skipSpace() {
	for p.off < len(p.src) && (p.src[p.off] == ' ' || p.src[p.off] == '\t') {
		p.off++
	}
}

// newline consumes the \n at the current offset and returns its token's
// range, which ends at the start of the next line.
func (p *fastParser) newline() hcl.Range {
	r := hcl.Range{Filename: p.filename, Start: p.pos(p.off)}
	p.off++
	p.line++
	p.lineStart, p.col0 = p.off, 1
	r.End = p.pos(p.off)
	return r
}

// comment reports whether a # or // comment starts at the current offset.
func (p *fastParser) comment() bool {
	c := p.at(p.off)
	return c == '#' || (c == '/' && p.at(p.off+1) == '/')
}

// skipComment consumes a line comment with its newline, which the parser
// reads as a newline token of the comment's range. A comment may hold
// any UTF-8 text: its newline's token ends at column 1 whatever its
// characters. One that ends the source without a newline is HCL's.
func (p *fastParser) skipComment() (hcl.Range, bool) {
	start := p.pos(p.off)
	nl := bytes.IndexByte(p.src[p.off:], '\n')
	if nl < 0 {
		return hcl.Range{}, false
	}
	if text := p.src[p.off : p.off+nl]; !ascii(text) && !utf8.Valid(text) {
		return hcl.Range{}, false
	}
	p.off += nl
	r := p.newline()
	r.Start = start
	return r, true
}

// ascii reports whether b is all printable ASCII and tabs.
func ascii(b []byte) bool {
	for _, c := range b {
		if (c < 0x20 && c != '\t') || c > 0x7e {
			return false
		}
	}
	return true
}

// file parses the top-level body.
func (p *fastParser) file() (*hclsyntax.Body, bool) {
	// The body's range starts at its first token: a comment with its
	// newline, a newline, an identifier, or the end.
	p.skipSpace()
	var startRange hcl.Range
	switch {
	case p.comment():
		save := *p
		r, ok := p.skipComment()
		if !ok {
			return nil, false
		}
		*p = save
		startRange = r
	case p.eof():
		startRange = p.rng(p.off, p.off)
	case p.at(p.off) == '\n':
		save := *p
		startRange = p.newline()
		*p = save
	default:
		e := p.identEnd(p.off)
		if e == p.off {
			return nil, false
		}
		startRange = p.rng(p.off, e)
	}
	body, _, ok := p.body(startRange, true)
	return body, ok
}

// body parses the items of a body up to its end: the end of the source
// for the top level, else the closing brace. startRange is the range of
// the token before the items (the opening brace) or, at the top, the
// first token's.
func (p *fastParser) body(startRange hcl.Range, top bool) (*hclsyntax.Body, hcl.Range, bool) {
	attrs := hclsyntax.Attributes{}
	blocks := hclsyntax.Blocks{}
	var endRange hcl.Range
	for {
		p.skipSpace()
		switch {
		case p.eof():
			if !top {
				return nil, hcl.Range{}, false
			}
			endRange = p.rng(p.off, p.off)
		case p.at(p.off) == '\n':
			p.newline()
			continue
		case p.comment():
			if _, ok := p.skipComment(); !ok {
				return nil, hcl.Range{}, false
			}
			continue
		case p.at(p.off) == '}':
			if top {
				return nil, hcl.Range{}, false
			}
			endRange = p.rng(p.off, p.off+1)
			p.off++
		default:
			if top && p.simple {
				if kb, ok := p.keepImage(len(blocks)); ok {
					p.kept = append(p.kept, kb)
					continue
				}
			}
			attr, block, ok := p.item()
			if !ok {
				return nil, hcl.Range{}, false
			}
			if attr != nil {
				if _, dup := attrs[attr.Name]; dup {
					return nil, hcl.Range{}, false
				}
				attrs[attr.Name] = attr
			} else {
				blocks = append(blocks, block)
			}
			continue
		}
		break
	}
	return &hclsyntax.Body{
		Attributes: attrs,
		Blocks:     blocks,
		SrcRange:   hcl.RangeBetween(startRange, endRange),
		EndRange:   hcl.Range{Filename: endRange.Filename, Start: endRange.End, End: endRange.End},
	}, endRange, true
}

// lineEnd consumes what may end an attribute or a block: a newline, a
// comment (with its newline) or the end of the source; outside a block
// only, since a block must be closed.
func (p *fastParser) lineEnd() bool {
	p.skipSpace()
	switch {
	case p.eof():
		return true
	case p.at(p.off) == '\n':
		p.newline()
		return true
	case p.comment():
		_, ok := p.skipComment()
		return ok
	}
	return false
}

// identEnd returns the end of the identifier starting at o, or o.
func (p *fastParser) identEnd(o int) int {
	if c := p.at(o); !(c == '_' || isLetter(c)) {
		return o
	}
	o++
	for o < len(p.src) {
		c := p.src[o]
		if !(c == '_' || c == '-' || isLetter(c) || isDigit(c)) {
			break
		}
		o++
	}
	return o
}

func isLetter(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// item parses an attribute or a block.
func (p *fastParser) item() (*hclsyntax.Attribute, *hclsyntax.Block, bool) {
	e := p.identEnd(p.off)
	if e == p.off {
		return nil, nil, false
	}
	name := p.name(p.off, e)
	nameRange := p.rng(p.off, e)
	p.off = e
	p.skipSpace()
	if p.at(p.off) == '=' {
		if c := p.at(p.off + 1); c == '=' || c == '>' {
			return nil, nil, false
		}
		eqRange := p.rng(p.off, p.off+1)
		p.off++
		p.skipSpace()
		expr, ok := p.expr(false)
		if !ok || !p.lineEnd() {
			return nil, nil, false
		}
		return &hclsyntax.Attribute{
			Name:        name,
			Expr:        expr,
			SrcRange:    hcl.RangeBetween(nameRange, expr.Range()),
			NameRange:   nameRange,
			EqualsRange: eqRange,
		}, nil, true
	}
	var labels []string
	var labelRanges []hcl.Range
	for {
		p.skipSpace()
		switch c := p.at(p.off); {
		case c == '"':
			label, r, ok := p.quotedLabel()
			if !ok {
				return nil, nil, false
			}
			labels = append(labels, label)
			labelRanges = append(labelRanges, r)
			continue
		case c == '{':
		default:
			le := p.identEnd(p.off)
			if le == p.off {
				return nil, nil, false
			}
			labels = append(labels, string(p.src[p.off:le]))
			labelRanges = append(labelRanges, p.rng(p.off, le))
			p.off = le
			continue
		}
		break
	}
	oBrace := p.rng(p.off, p.off+1)
	p.off++
	// Only the multi-line form: a newline (or comment) or the closing
	// brace follows the opening one.
	p.skipSpace()
	if c := p.at(p.off); c != '\n' && c != '}' && !p.comment() {
		return nil, nil, false
	}
	body, cBrace, ok := p.body(oBrace, false)
	if !ok {
		return nil, nil, false
	}
	if !p.lineEnd() {
		return nil, nil, false
	}
	return nil, &hclsyntax.Block{
		Type:            name,
		Labels:          labels,
		Body:            body,
		TypeRange:       nameRange,
		LabelRanges:     labelRanges,
		OpenBraceRange:  oBrace,
		CloseBraceRange: cBrace,
	}, true
}

// quotedLabel parses a block label in quotes.
func (p *fastParser) quotedLabel() (string, hcl.Range, bool) {
	open := p.off
	p.off++
	s, ok := p.literal()
	if !ok || p.at(p.off) != '"' {
		return "", hcl.Range{}, false
	}
	p.off++
	return s, p.rng(open, p.off), true
}

// literal reads the literal text of a quoted string from the current
// offset up to the next ${, closing quote or anything it does not take,
// and returns it decoded.
func (p *fastParser) literal() (string, bool) {
	start := p.off
	var buf []byte // only once an escape is seen
	for p.off < len(p.src) {
		for p.off < len(p.src) && litPlain[p.src[p.off]] {
			p.off++
		}
		if p.off == len(p.src) {
			break
		}
		c := p.src[p.off]
		switch c {
		case '"', '\n':
			return p.decoded(buf, start), true
		case '\\':
			var d byte
			switch p.at(p.off + 1) {
			case 'n':
				d = '\n'
			case 't':
				d = '\t'
			case 'r':
				d = '\r'
			case '"':
				d = '"'
			case '\\':
				d = '\\'
			default:
				return "", false
			}
			if p.noDecode {
				p.off += 2
				continue
			}
			if buf == nil {
				buf = make([]byte, 0, 64)
			}
			buf = append(buf, p.src[start:p.off]...)
			buf = append(buf, d)
			p.off += 2
			start = p.off
			continue
		case '$':
			switch p.at(p.off + 1) {
			case '{':
				return p.decoded(buf, start), true
			case '$':
				return "", false // $${ is an escape; $$ left to HCL
			}
		case '%':
			if n := p.at(p.off + 1); n == '{' || n == '%' {
				return "", false
			}
		case '\t':
			return "", false
		}
		if c > 0x7e {
			return "", false
		}
		p.off++
	}
	return p.decoded(buf, start), true
}

// litPlain holds the bytes that literal takes as they are, with nothing
// to look at: printable ASCII but for ", \, $ and %.
var litPlain = func() (t [256]bool) {
	for c := 0x20; c <= 0x7e; c++ {
		t[c] = c != '"' && c != '\\' && c != '$' && c != '%'
	}
	return t
}()

func (p *fastParser) decoded(buf []byte, start int) string {
	if p.noDecode {
		return ""
	}
	if buf == nil {
		return string(p.src[start:p.off])
	}
	return string(append(buf, p.src[start:p.off]...))
}

// expr parses one expression term; the caller checks what follows it.
// inInterp refuses objects, whose newlines differ inside ${ }.
func (p *fastParser) expr(inInterp bool) (hclsyntax.Expression, bool) {
	c := p.at(p.off)
	switch {
	case c == '"':
		return p.template()
	case isDigit(c):
		e := p.off
		for e < len(p.src) && isDigit(p.src[e]) {
			e++
		}
		if n := p.at(e); n == '.' || n == 'e' || n == 'E' || n == '_' || isLetter(n) {
			return nil, false
		}
		v, ok := wholeLiteral(p.src[p.off:e])
		if !ok {
			var err error
			if v, err = cty.ParseNumberVal(string(p.src[p.off:e])); err != nil {
				return nil, false
			}
		}
		r := p.rng(p.off, e)
		p.off = e
		return &hclsyntax.LiteralValueExpr{Val: v, SrcRange: r}, true
	case c == '{' && !inInterp:
		return p.object()
	}
	e := p.identEnd(p.off)
	if e == p.off {
		return nil, false
	}
	name := p.name(p.off, e)
	r := p.rng(p.off, e)
	p.off = e
	var lit cty.Value
	switch name {
	case "true":
		lit = cty.True
	case "false":
		lit = cty.False
	case "null":
		lit = cty.NullVal(cty.DynamicPseudoType)
	default:
		// The traversal is made at its length: a dot and an identifier
		// start each step.
		steps := 1
		for o := p.off; p.at(o) == '.'; steps++ {
			ae := p.identEnd(o + 1)
			if ae == o+1 {
				break
			}
			o = ae
		}
		trav := make(hcl.Traversal, 1, steps)
		trav[0] = hcl.TraverseRoot{Name: name, SrcRange: r}
		t := &hclsyntax.ScopeTraversalExpr{Traversal: trav, SrcRange: r}
		for p.at(p.off) == '.' {
			ae := p.identEnd(p.off + 1)
			if ae == p.off+1 {
				return nil, false
			}
			step := p.rng(p.off, ae)
			t.Traversal = append(t.Traversal, hcl.TraverseAttr{Name: p.name(p.off+1, ae), SrcRange: step})
			t.SrcRange = hcl.RangeBetween(t.SrcRange, step)
			p.off = ae
		}
		if !p.plainAfterTerm() {
			return nil, false
		}
		return t, true
	}
	if !p.plainAfterTerm() || p.at(p.off) == '.' {
		return nil, false
	}
	return &hclsyntax.LiteralValueExpr{Val: lit, SrcRange: r}, true
}

// plainAfterTerm reports that no call, index or splat follows an
// identifier or reference.
func (p *fastParser) plainAfterTerm() bool {
	o := p.off
	for o < len(p.src) && (p.src[o] == ' ' || p.src[o] == '\t') {
		o++
	}
	c := p.at(o)
	return c != '(' && c != '[' && !(c == ':' && p.at(o+1) == ':')
}

// template parses a quoted string.
func (p *fastParser) template() (hclsyntax.Expression, bool) {
	open := p.off
	p.off++
	// The parts are gathered here and copied once, at their number.
	var buf [8]hclsyntax.Expression
	parts := buf[:0]
	interps := 0
	for {
		litStart := p.off
		s, ok := p.literal()
		if !ok {
			return nil, false
		}
		switch {
		case p.off > litStart:
			parts = append(parts, &hclsyntax.LiteralValueExpr{Val: cty.StringVal(s), SrcRange: p.rng(litStart, p.off)})
		case len(parts) == 0 && p.at(p.off) == '"':
			// HCL's lexer gives "" one empty literal, placed after the
			// closing quote.
			parts = append(parts, &hclsyntax.LiteralValueExpr{Val: cty.StringVal(""), SrcRange: p.rng(p.off+1, p.off+1)})
		}
		switch p.at(p.off) {
		case '"':
			p.off++
			r := p.rng(open, p.off)
			if interps == 1 && len(parts) == 1 {
				return &hclsyntax.TemplateWrapExpr{Wrapped: parts[0], SrcRange: r}, true
			}
			return &hclsyntax.TemplateExpr{Parts: slices.Clone(parts), SrcRange: r}, true
		case '$':
			if p.at(p.off+2) == '~' {
				return nil, false
			}
			p.off += 2
			p.skipSpace()
			e, ok := p.expr(true)
			if !ok {
				return nil, false
			}
			p.skipSpace()
			if p.at(p.off) != '}' {
				return nil, false
			}
			p.off++
			parts = append(parts, e)
			interps++
		default:
			return nil, false // a newline or the end: unterminated
		}
	}
}

// object parses an object constructor, one or more items a line.
func (p *fastParser) object() (hclsyntax.Expression, bool) {
	open := p.rng(p.off, p.off+1)
	p.off++
	// A for expression, which may start on a later line, is HCL's.
	if p.forNext() {
		return nil, false
	}
	var items []hclsyntax.ObjectConsItem
	for {
		p.skipSpace()
		switch {
		case p.eof():
			return nil, false
		case p.at(p.off) == '\n':
			p.newline()
			continue
		case p.comment():
			if _, ok := p.skipComment(); !ok {
				return nil, false
			}
			continue
		case p.at(p.off) == '}':
			close := p.rng(p.off, p.off+1)
			p.off++
			return &hclsyntax.ObjectConsExpr{Items: items, SrcRange: hcl.RangeBetween(open, close), OpenRange: open}, true
		}
		key, ok := p.expr(false)
		if !ok {
			return nil, false
		}
		p.skipSpace()
		switch c, n := p.at(p.off), p.at(p.off+1); {
		case c == '=' && n != '=' && n != '>', c == ':' && n != ':':
			p.off++
		default:
			return nil, false
		}
		p.skipSpace()
		value, ok := p.expr(false)
		if !ok {
			return nil, false
		}
		items = append(items, hclsyntax.ObjectConsItem{KeyExpr: &hclsyntax.ObjectConsKeyExpr{Wrapped: key}, ValueExpr: value})
		p.skipSpace()
		switch {
		case p.at(p.off) == '}':
			continue
		case p.at(p.off) == ',':
			p.off++
		case p.at(p.off) == '\n' || p.comment():
		default:
			return nil, false
		}
	}
}

// forNext reports whether the first word after an opening brace, across
// newlines and comments, is "for".
func (p *fastParser) forNext() bool {
	o := p.off
	for o < len(p.src) {
		switch c := p.src[o]; {
		case c == ' ' || c == '\t' || c == '\n':
			o++
			continue
		case c == '#' || (c == '/' && p.at(o+1) == '/'):
			nl := bytes.IndexByte(p.src[o:], '\n')
			if nl < 0 {
				return false
			}
			o += nl
			continue
		}
		break
	}
	e := p.identEnd(o)
	return string(p.src[o:e]) == "for"
}

// fastNav answers hcl's navigation questions for a file parseFast built,
// exactly as hclsyntax's own navigation does for the files it parses.
type fastNav struct {
	root *hclsyntax.Body
}

func (n fastNav) block(offset int) *hclsyntax.Block {
	for _, b := range n.root.Blocks {
		if b.Range().ContainsOffset(offset) {
			return b
		}
	}
	return nil
}

// ContextString implements the interface hcl's diagnostic writer uses.
func (n fastNav) ContextString(offset int) string {
	b := n.block(offset)
	if b == nil {
		return ""
	}
	s := b.Type
	for _, label := range b.Labels {
		s += fmt.Sprintf(" %q", label)
	}
	return s
}

// ContextDefRange implements the interface of hcled.
func (n fastNav) ContextDefRange(offset int) hcl.Range {
	if b := n.block(offset); b != nil {
		return b.DefRange()
	}
	return hcl.Range{}
}

// wholeLiteral returns the number the decimal digits ds write, as
// cty.ParseNumberVal would make it (precision 512, rounding to nearest
// even, exact), when there are at most 18 of them: a seed, a count, a
// quality. false for more, which ParseNumberVal must read.
func wholeLiteral(ds []byte) (cty.Value, bool) {
	if len(ds) == 0 || len(ds) > 18 {
		return cty.NilVal, false
	}
	var n uint64
	for _, d := range ds {
		n = n*10 + uint64(d-'0')
	}
	return cty.NumberVal(new(big.Float).SetPrec(512).SetMode(big.ToNearestEven).SetUint64(n)), true
}
