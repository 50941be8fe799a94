package config

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// A large configuration is mostly image blocks, and the syntax trees of
// all of them at once took most of Load's memory: a parsed chunk that
// holds only image blocks keeps their headers and source instead, and
// each block's body is parsed again when it is read (once, by the worker
// that expands the block), then dropped.

// lazyImages replaces c's file by a lazyFile when c parsed cleanly and
// holds nothing but image blocks with one label each: what Content with
// rootSchema accepts without a diagnostic. Anything else keeps its tree.
func lazyImages(c *chunk, filename string) {
	body, ok := c.f.Body.(*hclsyntax.Body)
	if !ok || len(c.diags) > 0 || len(body.Attributes) > 0 || len(body.Blocks) == 0 {
		return
	}
	for _, b := range body.Blocks {
		if b.Type != "image" || len(b.Labels) != 1 {
			return
		}
	}
	lf := &lazyFile{
		blocks: make([]*hcl.Block, len(body.Blocks)),
		nav:    make([]navBlock, len(body.Blocks)),
		end:    body.EndRange,
	}
	for i, b := range body.Blocks {
		r := b.Range()
		lb := &lazyBody{src: c.src[r.Start.Byte-c.start.Byte : r.End.Byte-c.start.Byte], filename: filename, start: r.Start}
		lf.blocks[i] = &hcl.Block{
			Type: b.Type, Labels: b.Labels, Body: lb,
			DefRange: b.DefRange(), TypeRange: b.TypeRange, LabelRanges: b.LabelRanges,
		}
		lf.nav[i] = navBlock{start: r.Start.Byte, end: r.End.Byte, typ: b.Type, labels: b.Labels}
	}
	c.f = &hcl.File{Body: lf, Bytes: c.f.Bytes, Nav: &blockNav{blocks: lf.nav}}
}

// lazyFile is the body of a chunk of image blocks (lazyImages), or of a
// chunk whose image blocks of the simple form parseFastOpts kept as
// source among other blocks (keptFile).
type lazyFile struct {
	blocks []*hcl.Block
	nav    []navBlock
	end    hcl.Range
}

var _ hcl.Body = (*lazyFile)(nil)

// Content returns the blocks; lazyImages and keptFile made sure that
// schema (rootSchema) accepts every one of them.
func (f *lazyFile) Content(schema *hcl.BodySchema) (*hcl.BodyContent, hcl.Diagnostics) {
	content, _, diags := f.PartialContent(schema)
	return content, diags
}

// PartialContent is Content; nothing remains.
func (f *lazyFile) PartialContent(schema *hcl.BodySchema) (*hcl.BodyContent, hcl.Body, hcl.Diagnostics) {
	content := &hcl.BodyContent{Attributes: hcl.Attributes{}, MissingItemRange: f.end}
	// Room for every block at once: most are taken, and a file of
	// thousands would otherwise grow the array by doubling.
	content.Blocks = make(hcl.Blocks, 0, len(f.blocks))
	var diags hcl.Diagnostics
	for _, b := range f.blocks {
		if !schemaHas(schema, b) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Unsupported block type",
				Detail:   fmt.Sprintf("Blocks of type %q are not expected here.", b.Type),
				Subject:  b.TypeRange.Ptr(),
			})
			continue
		}
		content.Blocks = append(content.Blocks, b)
	}
	return content, hcl.EmptyBody(), diags
}

// JustAttributes refuses the blocks, as hclsyntax does.
func (f *lazyFile) JustAttributes() (hcl.Attributes, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	for _, b := range f.blocks {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unexpected \"" + b.Type + "\" block",
			Detail:   "Blocks are not allowed here.",
			Subject:  b.TypeRange.Ptr(),
		})
	}
	return hcl.Attributes{}, diags
}

// MissingItemRange is the end of the chunk.
func (f *lazyFile) MissingItemRange() hcl.Range { return f.end }

func schemaHas(schema *hcl.BodySchema, b *hcl.Block) bool {
	for _, s := range schema.Blocks {
		if s.Type == b.Type && len(s.LabelNames) == len(b.Labels) {
			return true
		}
	}
	return false
}

// lazyBody is the body of one image block, parsed from its source (the
// whole block, header to closing brace) each time it is read.
type lazyBody struct {
	src      []byte
	filename string
	start    hcl.Pos
}

var _ hcl.Body = (*lazyBody)(nil)

// body parses the block again; it parsed cleanly as part of its chunk,
// and the nesting check has cleared that chunk.
func (b *lazyBody) body() (hcl.Body, hcl.Diagnostics) {
	f, ok := parseFast(b.src, b.filename, b.start)
	var diags hcl.Diagnostics
	if !ok {
		f, diags = hclsyntax.ParseConfig(b.src, b.filename, b.start)
	}
	if sb, ok := f.Body.(*hclsyntax.Body); ok && !diags.HasErrors() && len(sb.Blocks) == 1 {
		return sb.Blocks[0].Body, diags
	}
	if !diags.HasErrors() {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Internal error: an image block did not parse again",
			Detail:   "pixform parsed this block a second time and found something else. Please report it with the file.",
			Subject:  &hcl.Range{Filename: b.filename, Start: b.start, End: b.start},
		})
	}
	return hcl.EmptyBody(), diags
}

// Content parses the body and returns its content.
func (b *lazyBody) Content(schema *hcl.BodySchema) (*hcl.BodyContent, hcl.Diagnostics) {
	body, diags := b.body()
	content, d := body.Content(schema)
	return content, append(diags, d...)
}

// PartialContent parses the body and returns its partial content.
func (b *lazyBody) PartialContent(schema *hcl.BodySchema) (*hcl.BodyContent, hcl.Body, hcl.Diagnostics) {
	body, diags := b.body()
	content, rest, d := body.PartialContent(schema)
	return content, rest, append(diags, d...)
}

// JustAttributes parses the body and returns its attributes.
func (b *lazyBody) JustAttributes() (hcl.Attributes, hcl.Diagnostics) {
	body, diags := b.body()
	attrs, d := body.JustAttributes()
	return attrs, append(diags, d...)
}

// MissingItemRange parses the body and returns its missing-item range.
func (b *lazyBody) MissingItemRange() hcl.Range {
	body, _ := b.body()
	return body.MissingItemRange()
}

// chunksBody is a file assembled from chunks of which some are lazy: its
// content is theirs, in order.
type chunksBody struct {
	parts []hcl.Body
	end   hcl.Range
}

var _ hcl.Body = (*chunksBody)(nil)

// Content concatenates the content of the parts, with the diagnostics a
// whole file's syntax tree gives: those of its partial content, then one
// for each block of a type schema does not take, each in the order of
// the source. Such a block can only be in a part with a syntax tree
// (lazyImages and keptFile take no other), whose Content reports it
// after its partial content's diagnostics.
func (c *chunksBody) Content(schema *hcl.BodySchema) (*hcl.BodyContent, hcl.Diagnostics) {
	content, _, diags := c.PartialContent(schema)
	var unsupported hcl.Diagnostics
	for _, p := range c.parts {
		sb, ok := p.(*hclsyntax.Body)
		if !ok {
			continue
		}
		_, _, d := sb.PartialContent(schema)
		_, all := sb.Content(schema)
		unsupported = append(unsupported, all[len(d):]...)
	}
	return content, append(diags, unsupported...)
}

// PartialContent concatenates the partial content of the parts; the parts
// have no attributes (assemble parses a file with any whole), so nothing
// remains.
func (c *chunksBody) PartialContent(schema *hcl.BodySchema) (*hcl.BodyContent, hcl.Body, hcl.Diagnostics) {
	out := &hcl.BodyContent{Attributes: hcl.Attributes{}, MissingItemRange: c.end}
	out.Blocks = make(hcl.Blocks, 0, navCount(c))
	var diags hcl.Diagnostics
	for _, p := range c.parts {
		content, _, d := p.PartialContent(schema)
		diags = append(diags, d...)
		out.Blocks = append(out.Blocks, content.Blocks...)
	}
	return out, hcl.EmptyBody(), diags
}

// JustAttributes concatenates the parts' answers.
func (c *chunksBody) JustAttributes() (hcl.Attributes, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	for _, p := range c.parts {
		_, d := p.JustAttributes()
		diags = append(diags, d...)
	}
	return hcl.Attributes{}, diags
}

// MissingItemRange is the end of the file.
func (c *chunksBody) MissingItemRange() hcl.Range { return c.end }
