package config

import (
	"bytes"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// chunkSize is the least source a parse job takes. Large files are cut at
// top-level block boundaries into jobs of about this size, parsed in
// parallel: HCL's lexer grows one token slice per parse, and on a
// 20,000-image file that copying and the garbage it leaves dominate Load.
const chunkSize = 64 << 10

// source is one configuration file's name and bytes.
type source struct {
	name string
	src  []byte
}

// chunk is a piece of a source that starts at a top-level block.
type chunk struct {
	file  int
	start hcl.Pos
	src   []byte
	f     *hcl.File
	diags hcl.Diagnostics
}

// lazyFrom is how many bytes of configuration make parseSources keep
// image blocks lazily (see lazyImages): about 45,000 small blocks. Below
// it the syntax trees fit in memory and parsing each block a second time
// would only cost time.
const lazyFrom = 8 << 20

// parseSources parses every source as hclsyntax.ParseConfig would, using
// all CPUs. Results and diagnostics are in source order. When the sources
// hold lazyAt bytes or more (0: lazyFrom), chunks of image blocks are kept
// lazily. With simple, image blocks of the simple form (simpleImage) are
// kept as their source whatever the size.
func parseSources(srcs []source, lazyAt int, simple bool) ([]*hcl.File, hcl.Diagnostics) {
	if lazyAt <= 0 {
		lazyAt = lazyFrom
	}
	total := 0
	for _, s := range srcs {
		total += len(s.src)
	}
	lazy := total >= lazyAt
	var chunks []*chunk
	perFile := make([][]*chunk, len(srcs))
	for i, s := range srcs {
		for _, c := range splitSource(s.src) {
			c.file = i
			chunks = append(chunks, c)
			perFile[i] = append(perFile[i], c)
		}
	}
	parallel(len(chunks), func(i int) {
		c := chunks[i]
		c.f, c.diags = parseConfigOpts(c.src, srcs[c.file].name, c.start, simple)
		if lazy {
			lazyImages(c, srcs[c.file].name)
		}
	})

	files := make([]*hcl.File, len(srcs))
	var diags hcl.Diagnostics
	for i, s := range srcs {
		f, d := assemble(s, perFile[i])
		files[i] = f
		diags = append(diags, d...)
	}
	return files, diags
}

// assemble joins the parsed chunks of one source into one file, or parses
// the source whole when the chunks do not join cleanly.
func assemble(s source, chunks []*chunk) (*hcl.File, hcl.Diagnostics) {
	if len(chunks) == 1 {
		return chunks[0].f, chunks[0].diags
	}
	body := &hclsyntax.Body{Attributes: hclsyntax.Attributes{}}
	nav := &chunkNav{}
	var diags hcl.Diagnostics
	var parts []hcl.Body // of every chunk, when some are lazy
	lazy := false
	for _, c := range chunks {
		if c.diags.HasErrors() {
			// A chunk with errors may have been cut inside a construct (a
			// heredoc, a comment, a bracket): only the whole source then
			// gives the true diagnostics.
			return parseConfig(s.src, s.name, hcl.InitialPos)
		}
		switch cb := c.f.Body.(type) {
		case *hclsyntax.Body:
			// Top-level attributes, too, may come from a bad cut.
			if len(cb.Attributes) > 0 {
				return parseConfig(s.src, s.name, hcl.InitialPos)
			}
			body.Blocks = append(body.Blocks, cb.Blocks...)
			body.EndRange = cb.EndRange
		case *lazyFile:
			lazy = true
			body.EndRange = cb.end
		default:
			return parseConfig(s.src, s.name, hcl.InitialPos)
		}
		parts = append(parts, c.f.Body)
		diags = append(diags, c.diags...)
		nav.starts = append(nav.starts, c.start.Byte)
		nav.navs = append(nav.navs, c.f.Nav)
	}
	if lazy {
		return &hcl.File{Body: &chunksBody{parts: parts, end: body.EndRange}, Bytes: s.src, Nav: nav}, diags
	}
	body.SrcRange = hcl.Range{Filename: s.name, Start: hcl.InitialPos, End: body.EndRange.End}
	return &hcl.File{Body: body, Bytes: s.src, Nav: nav}, diags
}

// splitSource cuts src before lines that start a top-level block at
// column 1, into chunks of at least chunkSize bytes. A cut inside some
// multi-line construct leaves the chunk before it unterminated, so
// assemble detects it and falls back to a whole parse.
func splitSource(src []byte) []*chunk {
	var out []*chunk
	start, line, last := hcl.InitialPos, 1, 0
	for off := 0; ; {
		nl := bytes.IndexByte(src[off:], '\n')
		if nl < 0 {
			break
		}
		off += nl + 1
		line++
		if off-last < chunkSize || !blockStart(src[off:]) {
			continue
		}
		out = append(out, &chunk{start: start, src: src[last:off]})
		start, last = hcl.Pos{Line: line, Column: 1, Byte: off}, off
	}
	return append(out, &chunk{start: start, src: src[last:]})
}

// blockStart reports whether b starts with a top-level block header.
func blockStart(b []byte) bool {
	for _, kw := range [...]string{"image ", "variable ", "provider ", "locals ", "locals{"} {
		if bytes.HasPrefix(b, []byte(kw)) {
			return true
		}
	}
	return false
}

// parallel calls fn(0..n-1) on up to GOMAXPROCS goroutines, which claim
// indices in small batches, and returns when all calls have.
func parallel(n int, fn func(i int)) {
	const batch = 16
	workers := min((n+batch-1)/batch, runtime.GOMAXPROCS(0))
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				start := int(next.Add(batch)) - batch
				if start >= n {
					return
				}
				for i := start; i < min(start+batch, n); i++ {
					fn(i)
				}
			}
		})
	}
	wg.Wait()
}

// chunkNav gives a file assembled from chunks the "in image "x"" context
// of diagnostics, by asking the navigation of the chunk holding an offset.
type chunkNav struct {
	starts []int
	navs   []any
}

// at returns the navigation of the chunk holding offset.
func (n *chunkNav) at(offset int) any {
	i := len(n.starts) - 1
	for i > 0 && n.starts[i] > offset {
		i--
	}
	if i < 0 {
		return nil
	}
	return n.navs[i]
}

// ContextString implements the interface hcl's diagnostic writer uses.
func (n *chunkNav) ContextString(offset int) string {
	if cs, ok := n.at(offset).(interface{ ContextString(int) string }); ok {
		return cs.ContextString(offset)
	}
	return ""
}

// ContextDefRange implements the interface of hcled.
func (n *chunkNav) ContextDefRange(offset int) hcl.Range {
	if cd, ok := n.at(offset).(interface{ ContextDefRange(int) hcl.Range }); ok {
		return cd.ContextDefRange(offset)
	}
	return hcl.Range{}
}

// LargeSize reports whether size bytes of configuration files (Size) are
// lazyFrom or more: a configuration that Load keeps lazily, whose loaded
// size (about a kilobyte an image) a caller may want to bound more
// tightly than a small one's. A directory that cannot be read has Size 0,
// and is not large; Load reports why.
func LargeSize(size int64) bool { return size >= lazyFrom }

// Size is the number of bytes in the configuration files of dir, as Load
// reads them; 0 for a directory that cannot be read.
func Size(dir string) int64 {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var total int64
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || ignoredFile(name) || !strings.HasSuffix(name, ConfigSuffix) {
			continue
		}
		if info, err := e.Info(); err == nil {
			total += info.Size()
		}
	}
	return total
}
