package config

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/providers"
)

// Most image blocks of a large configuration are of one simple form:
//
//	image "hero" {
//	  prompt       = "${local.city}, ${var.theme} lights"
//	  aspect_ratio = "16:9"
//	  seed         = 42
//	  path         = "assets/hero.png"
//	}
//
// attributes prompt, aspect_ratio, style and path set to quoted strings of
// text and references var.x or local.x, and seed and candidates set to
// whole numbers, one a line, with comments and blank lines between. The
// parser keeps such a block as its source (a lazyBody), without a syntax
// tree, and expandSimple evaluates it from the source: the values
// constAttr would find, checked as expandBlock checks them. A block that
// does not evaluate cleanly that way goes the general way, through the
// syntax tree its source parses to, which also says what is wrong.

// The slots of a simple block's attributes.
const (
	simplePrompt = iota
	simpleRatio
	simpleSeed
	simpleStyle
	simplePath
	simpleCandidates
	simpleSlots
)

// simpleSlot returns the slot of the attribute name, or -1 for a name a
// simple block does not set.
func simpleSlot(name []byte) int {
	switch string(name) {
	case "prompt":
		return simplePrompt
	case "aspect_ratio":
		return simpleRatio
	case "seed":
		return simpleSeed
	case "style":
		return simpleStyle
	case "path":
		return simplePath
	case "candidates":
		return simpleCandidates
	}
	return -1
}

// keptBlock is an image block parseFastOpts kept as its source.
type keptBlock struct {
	at    int // how many blocks with syntax trees come before it
	block *hcl.Block
}

// keptImage is what a kept block is made of, in one allocation.
type keptImage struct {
	block       hcl.Block
	body        lazyBody
	labels      [1]string
	labelRanges [1]hcl.Range
}

// keepImage reads the top-level image block at the current offset when
// it is of the simple form; at is how many blocks with syntax trees came
// before it. false leaves the parser where it was.
func (p *fastParser) keepImage(at int) (keptBlock, bool) {
	if e := p.identEnd(p.off); string(p.src[p.off:e]) != "image" {
		return keptBlock{}, false
	}
	save := *p
	kb, ok := p.simpleBlock(at)
	if !ok {
		*p = save
		return keptBlock{}, false
	}
	return kb, true
}

// simpleBlock reads an image block of the simple form.
func (p *fastParser) simpleBlock(at int) (keptBlock, bool) {
	start := p.off
	typeRange := p.rng(p.off, p.off+len("image"))
	p.off += len("image")
	p.skipSpace()
	if p.at(p.off) != '"' {
		return keptBlock{}, false
	}
	label, labelRange, ok := p.quotedLabel()
	if !ok {
		return keptBlock{}, false
	}
	var s simpleScan
	if !s.open(p) || !s.body(p) || !p.lineEnd() {
		return keptBlock{}, false
	}
	p.noDecode = false
	k := &keptImage{
		body:        lazyBody{src: p.src[start : s.close.End.Byte-p.base.Byte], filename: p.filename, start: typeRange.Start},
		labels:      [1]string{label},
		labelRanges: [1]hcl.Range{labelRange},
	}
	k.block = hcl.Block{
		Type:        "image",
		Labels:      k.labels[:],
		Body:        &k.body,
		DefRange:    hcl.RangeBetween(typeRange, labelRange),
		TypeRange:   typeRange,
		LabelRanges: k.labelRanges[:],
	}
	return keptBlock{at: at, block: &k.block}, true
}

// keptFile is the top-level body with the blocks kept as source in their
// places, when every block is one rootSchema takes and there are no
// attributes: what Content(rootSchema) of the whole syntax tree gives.
func keptFile(body *hclsyntax.Body, kept []keptBlock) (*lazyFile, bool) {
	if len(body.Attributes) > 0 {
		return nil, false
	}
	schema := rootSchema()
	n := len(body.Blocks) + len(kept)
	lf := &lazyFile{blocks: make([]*hcl.Block, 0, n), nav: make([]navBlock, 0, n), end: body.EndRange}
	// The index's labels of the kept blocks are its own: each block's
	// are in its keptImage, which they would keep alive, with the rest of
	// the block, as long as the index (the compacted file) lives.
	labels := make([]string, len(kept))
	k := 0
	for i := 0; ; i++ {
		for ; k < len(kept) && kept[k].at == i; k++ {
			b := kept[k].block
			lb := b.Body.(*lazyBody)
			lf.blocks = append(lf.blocks, b)
			labels[k] = b.Labels[0]
			lf.nav = append(lf.nav, navBlock{start: lb.start.Byte, end: lb.start.Byte + len(lb.src), typ: b.Type, labels: labels[k : k+1 : k+1]})
		}
		if i == len(body.Blocks) {
			return lf, true
		}
		sb := body.Blocks[i]
		b := sb.AsHCLBlock()
		if !schemaHas(schema, b) {
			return nil, false
		}
		r := sb.Range()
		lf.blocks = append(lf.blocks, b)
		lf.nav = append(lf.nav, navBlock{start: r.Start.Byte, end: r.End.Byte, typ: b.Type, labels: b.Labels})
	}
}

// simpleScan reads the body of a simple block.
type simpleScan struct {
	attrs [simpleSlots]simpleAttr
	close hcl.Range
}

// simpleAttr is one attribute of a simple block.
type simpleAttr struct {
	set                  bool
	nameRange, exprRange hcl.Range
	num                  int64 // seed and candidates
	// quoted is the source between the quotes of the others.
	quoted []byte
}

// open reads the opening brace of the block, which a newline or a
// comment must follow, and turns decoding off: the scan decodes text
// itself.
func (s *simpleScan) open(p *fastParser) bool {
	p.skipSpace()
	if p.at(p.off) != '{' {
		return false
	}
	p.off++
	p.skipSpace()
	if p.at(p.off) != '\n' && !p.comment() {
		return false
	}
	p.noDecode = true
	return true
}

// body reads the attributes up to the closing brace.
func (s *simpleScan) body(p *fastParser) bool {
	for {
		p.skipSpace()
		switch {
		case p.eof():
			return false
		case p.at(p.off) == '\n':
			p.newline()
			continue
		case p.comment():
			if _, ok := p.skipComment(); !ok {
				return false
			}
			continue
		case p.at(p.off) == '}':
			s.close = p.rng(p.off, p.off+1)
			p.off++
			return true
		}
		if !s.attr(p) {
			return false
		}
	}
}

// attr reads one attribute with what ends its line.
func (s *simpleScan) attr(p *fastParser) bool {
	e := p.identEnd(p.off)
	slot := simpleSlot(p.src[p.off:e])
	if slot < 0 || s.attrs[slot].set {
		return false
	}
	a := &s.attrs[slot]
	a.set = true
	a.nameRange = p.rng(p.off, e)
	p.off = e
	p.skipSpace()
	if p.at(p.off) != '=' {
		return false
	}
	if c := p.at(p.off + 1); c == '=' || c == '>' {
		return false
	}
	p.off++
	p.skipSpace()
	start := p.off
	var ok bool
	if slot == simpleSeed || slot == simpleCandidates {
		ok = s.number(p, a)
	} else {
		ok = s.template(p, a)
	}
	if !ok {
		return false
	}
	a.exprRange = p.rng(start, p.off)
	return p.lineEnd()
}

// number reads a whole number of at most 18 digits.
func (s *simpleScan) number(p *fastParser, a *simpleAttr) bool {
	e := p.off
	for e < len(p.src) && isDigit(p.src[e]) {
		e++
	}
	if e == p.off || e-p.off > 18 {
		return false
	}
	if n := p.at(e); n == '.' || n == 'e' || n == 'E' || n == '_' || isLetter(n) {
		return false
	}
	var n int64
	for _, d := range p.src[p.off:e] {
		n = n*10 + int64(d-'0')
	}
	a.num = n
	p.off = e
	return true
}

// template reads a quoted string of text and references var.x and
// local.x, not one reference alone (which HCL takes as that value, not
// as a template).
func (s *simpleScan) template(p *fastParser, a *simpleAttr) bool {
	if p.at(p.off) != '"' {
		return false
	}
	p.off++
	open := p.off
	parts, refs := 0, 0
	for {
		litStart := p.off
		if _, ok := p.literal(); !ok {
			return false
		}
		if p.off > litStart {
			parts++
		} else if parts == 0 && p.at(p.off) == '"' {
			parts++ // "": one empty part
		}
		switch p.at(p.off) {
		case '"':
			a.quoted = p.src[open:p.off]
			p.off++
			return !(refs == 1 && parts == 1)
		case '$':
			if p.at(p.off+2) == '~' {
				return false
			}
			p.off += 2
			p.skipSpace()
			if !simpleRef(p) {
				return false
			}
			p.skipSpace()
			if p.at(p.off) != '}' {
				return false
			}
			p.off++
			parts++
			refs++
		default:
			return false
		}
	}
}

// simpleRef reads var.x or local.x inside an interpolation.
func simpleRef(p *fastParser) bool {
	e := p.identEnd(p.off)
	if root := p.src[p.off:e]; string(root) != "var" && string(root) != "local" || p.at(e) != '.' {
		return false
	}
	ae := p.identEnd(e + 1)
	if ae == e+1 {
		return false
	}
	p.off = ae
	return true
}

// appendText appends the text of quoted, the source of a string that
// simpleScan took, to dst: its literal text decoded and each var.x and
// local.x as constPart finds it. false when a reference is not a plain
// string of l's (l.plainVars, l.plainLocals). quoted must be what
// simpleScan.template accepted (its escapes and references whole): it is
// read without further bounds checks of its own.
func (l *loader) appendText(dst, quoted []byte) ([]byte, bool) {
	for i := 0; i < len(quoted); i++ {
		c := quoted[i]
		switch {
		case c == '\\':
			i++
			switch c = quoted[i]; c {
			case 'n':
				c = '\n'
			case 't':
				c = '\t'
			case 'r':
				c = '\r'
			}
		case c == '$' && i+1 < len(quoted) && quoted[i+1] == '{':
			i += 2
			for quoted[i] == ' ' || quoted[i] == '\t' {
				i++
			}
			m := l.plainLocals
			if quoted[i] == 'v' {
				m = l.plainVars
			}
			for quoted[i] != '.' {
				i++
			}
			start := i + 1
			for quoted[i] != ' ' && quoted[i] != '\t' && quoted[i] != '}' {
				i++
			}
			text, ok := m[string(quoted[start:i])]
			if !ok {
				return dst, false
			}
			dst = append(dst, text...)
			for quoted[i] != '}' {
				i++
			}
			continue
		}
		dst = append(dst, c)
	}
	return dst, true
}

// expandSimple evaluates ib, whose block is kept as its source lb, into
// img and the range of its path when the block is of the simple form and
// evaluates cleanly: what expandBlock finds for it. false when it does
// not: expandBlock must evaluate it the general way, and say what is
// wrong. It only reads l: workers call it at once.
func (l *loader) expandSimple(ib *imageBlock, lb *lazyBody, img *Image, pathRange *hcl.Range) bool {
	if l.generalOnly || l.plainVars == nil || l.plainLocals == nil {
		return false
	}
	// A block HCL parsed (lazyImages keeps those too) may hold what
	// parseFast does not take.
	for _, c := range lb.src {
		if c < 0x20 && c != '\n' && c != '\t' {
			return false
		}
	}
	p := fastParser{src: lb.src, filename: lb.filename, base: lb.start, line: lb.start.Line, col0: lb.start.Column, noDecode: true}
	var s simpleScan
	if string(p.src[:min(len(p.src), len("image"))]) != "image" {
		return false
	}
	p.off = len("image")
	p.skipSpace()
	if p.at(p.off) != '"' {
		return false
	}
	if _, _, ok := p.quotedLabel(); !ok || !s.open(&p) || !s.body(&p) || p.off != len(p.src) {
		return false
	}
	a := &s.attrs
	if !a[simplePrompt].set {
		return false
	}
	*img = Image{Addr: addrs.Addr{Name: ib.name}, DeclRange: ib.block.DefRange, AspectRatio: DefaultAspectRatio, Style: l.provider.Style}
	var buf [512]byte
	text, ok := l.appendText(buf[:0], a[simplePrompt].quoted)
	if !ok {
		return false
	}
	img.Prompt = cty.NormalizeString(string(text))
	if strings.TrimSpace(img.Prompt) == "" {
		return false
	}
	if a[simpleRatio].set {
		if img.AspectRatio, ok = l.oneOfText(buf[:0], a[simpleRatio].quoted, AspectRatios); !ok {
			return false
		}
	}
	if a[simpleSeed].set {
		if n := a[simpleSeed].num; n < 1 || n > providers.MaxSeed {
			return false
		}
		img.Seed = a[simpleSeed].num
	}
	if a[simpleStyle].set {
		if img.Style, ok = l.oneOfText(buf[:0], a[simpleStyle].quoted, Styles); !ok {
			return false
		}
	}
	if a[simpleCandidates].set {
		if n := a[simpleCandidates].num; n < 1 || n > MaxCandidates {
			return false
		}
		img.Candidates = int(a[simpleCandidates].num)
	}
	*pathRange = ib.block.LabelRanges[0]
	raw := "images/" + ib.name + ".png"
	if a[simplePath].set {
		text, ok := l.appendText(buf[:0], a[simplePath].quoted)
		if !ok {
			return false
		}
		raw = string(text)
		*pathRange = a[simplePath].exprRange
	}
	path, summary, _ := relPath(cty.NormalizeString(raw), imagePathText)
	if summary != "" {
		return false
	}
	img.Path = path
	return true
}

// oneOfText is the string of list that the text quoted evaluates to
// (appendText, into buf), or false.
func (l *loader) oneOfText(buf, quoted []byte, list []string) (string, bool) {
	text, ok := l.appendText(buf, quoted)
	if !ok {
		return "", false
	}
	return oneOf(text, list)
}

// oneOf returns the string of list that text is, as a cty string
// (normalized), or false.
func oneOf(text []byte, list []string) (string, bool) {
	s := ""
	if ascii(text) {
		for _, r := range list {
			if string(text) == r {
				return r, true
			}
		}
		return "", false
	}
	s = cty.NormalizeString(string(text))
	for _, r := range list {
		if s == r {
			return r, true
		}
	}
	return "", false
}
