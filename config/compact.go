package config

import (
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// compactFiles replaces every parsed file of l by its source bytes and a
// small index of its top-level blocks: all a Config's Files serve after
// Load is rendering diagnostics (a source line, and the "in image "x""
// context), and the syntax trees they held took most of a large
// configuration's memory.
func (l *loader) compactFiles() {
	for name, f := range l.files {
		l.files[name] = compactFile(f)
	}
}

// compactFile returns f with only its bytes and a blockNav.
func compactFile(f *hcl.File) *hcl.File {
	if f == nil {
		return nil
	}
	switch f.Body.(type) {
	case *hclsyntax.Body, *lazyFile, *chunksBody:
	default:
		// Compacted already.
		return f
	}
	nav := &blockNav{blocks: navBlocks(f.Body, make([]navBlock, 0, navCount(f.Body)))}
	sort.SliceStable(nav.blocks, func(i, j int) bool { return nav.blocks[i].start < nav.blocks[j].start })
	return &hcl.File{Body: hcl.EmptyBody(), Bytes: f.Bytes, Nav: nav}
}

// navBlocks appends the top-level blocks of body to out.
func navBlocks(body hcl.Body, out []navBlock) []navBlock {
	switch body := body.(type) {
	case *hclsyntax.Body:
		for _, b := range body.Blocks {
			r := b.Range()
			out = append(out, navBlock{start: r.Start.Byte, end: r.End.Byte, typ: b.Type, labels: b.Labels})
		}
	case *lazyFile:
		out = append(out, body.nav...)
	case *chunksBody:
		for _, p := range body.parts {
			out = navBlocks(p, out)
		}
	}
	return out
}

// navCount is how many blocks navBlocks appends for body.
func navCount(body hcl.Body) int {
	switch body := body.(type) {
	case *hclsyntax.Body:
		return len(body.Blocks)
	case *lazyFile:
		return len(body.nav)
	case *chunksBody:
		n := 0
		for _, p := range body.parts {
			n += navCount(p)
		}
		return n
	}
	return 0
}

// blockNav answers hcl's navigation question, which top-level block holds
// an offset, as hclsyntax's navigation does, from an index of the blocks.
type blockNav struct {
	blocks []navBlock // by start
}

type navBlock struct {
	start, end int // the block's byte range, end exclusive
	typ        string
	labels     []string
}

// ContextString implements the interface hcl's diagnostic writer uses: the
// header of the top-level block holding offset, such as image "hero".
func (n *blockNav) ContextString(offset int) string {
	i := sort.Search(len(n.blocks), func(i int) bool { return n.blocks[i].start > offset }) - 1
	if i < 0 || offset >= n.blocks[i].end {
		return ""
	}
	b := n.blocks[i]
	if len(b.labels) == 0 {
		return b.typ
	}
	quoted := make([]string, len(b.labels))
	for j, label := range b.labels {
		quoted[j] = strconv.Quote(label)
	}
	return b.typ + " " + strings.Join(quoted, " ")
}
