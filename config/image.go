package config

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/internal/safepath"
	"github.com/pixform/pixform/media"
	"github.com/pixform/pixform/providers"
)

// MaxCount is the largest count an image block may have: count makes
// variants of one prompt, and more than this is a typo, not a plan.
const MaxCount = 10000

// imageBlock is one declared image "name" block.
type imageBlock struct {
	name  string
	block *hcl.Block
}

// imageSchema is the body of an image block.
func imageSchema() *hcl.BodySchema {
	return &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "prompt"}, {Name: "aspect_ratio"}, {Name: "seed"}, {Name: "style"},
		{Name: "path"}, {Name: "for_each"}, {Name: "count"},
		{Name: "from"}, {Name: "operation"}, {Name: "mask"}, {Name: "transparent"},
		{Name: "resize"}, {Name: "crop"}, {Name: "quality"},
		{Name: "candidates"},
	}}
}

// imageContent is body.Content(schema) for schema, an image block's: the
// common body, HCL syntax holding only attributes that schema names, is
// taken as it is, without HCL's checks of what it does not hold (schema
// requires no attribute and has no blocks); any other goes through
// Content, which says what is wrong.
func imageContent(body hcl.Body, schema *hcl.BodySchema) (*hcl.BodyContent, hcl.Diagnostics) {
	sb, ok := body.(*hclsyntax.Body)
	if !ok || len(sb.Blocks) > 0 || len(schema.Blocks) > 0 {
		return body.Content(schema)
	}
	for name := range sb.Attributes {
		if !schemaHasAttr(schema, name) {
			return body.Content(schema)
		}
	}
	for _, a := range schema.Attributes {
		if a.Required {
			return body.Content(schema)
		}
	}
	// What AsHCLAttribute makes of each, in one allocation for all.
	all := make([]hcl.Attribute, len(sb.Attributes))
	attrs := make(hcl.Attributes, len(sb.Attributes))
	i := 0
	for name, a := range sb.Attributes {
		all[i] = hcl.Attribute{Name: a.Name, Expr: a.Expr, Range: a.SrcRange, NameRange: a.NameRange}
		attrs[name] = &all[i]
		i++
	}
	return &hcl.BodyContent{Attributes: attrs, MissingItemRange: sb.MissingItemRange()}, nil
}

// blockAttrs are the attributes of an image block by name, nil where
// one is not set: imageContent's Attributes without a map.
type blockAttrs struct {
	prompt, ratio, seed, style, path, forEach, count, from, operation *hcl.Attribute
	mask, transparent, resize, crop, quality, candidates              *hcl.Attribute
}

// slot returns where a holds the attribute name of imageSchema; nil for
// any other name.
func (a *blockAttrs) slot(name string) **hcl.Attribute {
	switch name {
	case "prompt":
		return &a.prompt
	case "aspect_ratio":
		return &a.ratio
	case "seed":
		return &a.seed
	case "style":
		return &a.style
	case "path":
		return &a.path
	case "for_each":
		return &a.forEach
	case "count":
		return &a.count
	case "from":
		return &a.from
	case "operation":
		return &a.operation
	case "mask":
		return &a.mask
	case "transparent":
		return &a.transparent
	case "resize":
		return &a.resize
	case "crop":
		return &a.crop
	case "quality":
		return &a.quality
	case "candidates":
		return &a.candidates
	}
	return nil
}

// imageAttrs returns the attributes imageContent(body, schema) finds, by
// name, and its diagnostics. The common body, HCL syntax holding only
// attributes that schema names, is read without making imageContent's
// map.
func imageAttrs(body hcl.Body, schema *hcl.BodySchema) (blockAttrs, hcl.Diagnostics) {
	var a blockAttrs
	if sb, ok := body.(*hclsyntax.Body); ok && len(sb.Blocks) == 0 && len(schema.Blocks) == 0 && len(sb.Attributes) > 0 {
		required := false
		for _, as := range schema.Attributes {
			required = required || as.Required
		}
		all := make([]hcl.Attribute, len(sb.Attributes))
		i := 0
		for name, at := range sb.Attributes {
			s := a.slot(name)
			if required || s == nil || !schemaHasAttr(schema, name) {
				break
			}
			all[i] = hcl.Attribute{Name: at.Name, Expr: at.Expr, Range: at.SrcRange, NameRange: at.NameRange}
			*s = &all[i]
			i++
		}
		if i == len(all) {
			return a, nil
		}
		a = blockAttrs{}
	}
	content, diags := imageContent(body, schema)
	for name, at := range content.Attributes {
		if s := a.slot(name); s != nil {
			*s = at
		}
	}
	return a, diags
}

// schemaHasAttr reports whether schema names the attribute name.
func schemaHasAttr(schema *hcl.BodySchema, name string) bool {
	for _, a := range schema.Attributes {
		if a.Name == name {
			return true
		}
	}
	return false
}

// declareImage records an image block, refusing a bad or repeated name.
func (l *loader) declareImage(b *hcl.Block) {
	name := b.Labels[0]
	if !addrs.ValidName(name) {
		l.errorf(&b.LabelRanges[0], "Invalid image name",
			fmt.Sprintf("%q is not a valid image name: a name starts with a letter or underscore and holds only letters, digits, underscores and dashes, because it becomes an address such as image.hero.", name))
		return
	}
	if l.imageNames == nil {
		l.imageNames = map[string]*imageBlock{}
	}
	if prev, ok := l.imageNames[name]; ok {
		l.errorf(&b.LabelRanges[0], "Duplicate image block",
			fmt.Sprintf("An image named %q was already declared at %s. Image names must be unique across all files of the directory: rename or remove one of them.", name, where(prev.block.DefRange)))
		return
	}
	// The body is decoded by expandBlock, in parallel with other blocks.
	ib := &imageBlock{name: name, block: b}
	l.imageNames[name] = ib
	l.images = append(l.images, ib)
}

// instance is one expansion of an image block.
type instance struct {
	addr addrs.Addr
	// ctx is the evaluation context; nil for an instance of for_each or
	// count, whose context instanceContext makes from each (or the index)
	// when the instance is evaluated, on the worker that evaluates it.
	ctx  *hcl.EvalContext
	key  string    // for the default path: for_each key or count index
	each cty.Value // for_each: each.value
}

// instanceContext returns the evaluation context of in: each.key and
// each.value for an instance of for_each, count.index for one of count.
func (l *loader) instanceContext(in instance) *hcl.EvalContext {
	if in.ctx != nil {
		return in.ctx
	}
	ctx := l.base.NewChild()
	switch in.addr.Kind {
	case addrs.StringKey:
		ctx.Variables = map[string]cty.Value{"each": cty.ObjectVal(map[string]cty.Value{
			"key": cty.StringVal(in.key), "value": in.each,
		})}
	case addrs.IntKey:
		ctx.Variables = map[string]cty.Value{"count": cty.ObjectVal(map[string]cty.Value{"index": cty.NumberIntVal(int64(in.addr.Index))})}
	}
	return ctx
}

// pathOwner is the first image found to write a path: its index in the
// images kept so far, and where its path was declared. It is small
// because a large configuration has one per image.
type pathOwner struct {
	image int
	at    pos
}

// pos is where a range starts, as where renders it.
type pos struct {
	filename     string
	line, column int32
}

func posOf(r hcl.Range) pos {
	return pos{filename: r.Filename, line: int32(r.Start.Line), column: int32(r.Start.Column)}
}

func (p pos) String() string { return fmt.Sprintf("%s:%d:%d", p.filename, p.line, p.column) }

// expandBatch is how many image blocks expandImages evaluates at once:
// the blocks of a batch are expanded in parallel, then checked and kept,
// and their syntax and intermediate results dropped before the next
// batch, so that a large configuration never holds both in full.
const expandBatch = 1024

// expandResult is what expandImages found of one image block.
type expandResult struct {
	images []Image
	ranges []hcl.Range // of each image's path, for diagnostics
	leaves []leafState // of each image's path itself
	diags  hcl.Diagnostics
}

// expandImages evaluates every image block into its instances, blocks in
// parallel, then checks paths against the file system and each other in
// declaration order. Diagnostics come in declaration order. It releases
// each block (l.images) once expanded.
func (l *loader) expandImages() []Image {
	// owners is keyed by safepath.Key: two paths that differ in case only
	// are one file on macOS and Windows checkouts.
	// Most blocks declare one image: allocate for that at least, so that
	// a large configuration's images and owners grow no copies.
	var owners map[string]pathOwner
	// A configuration of one image block (a for_each of thousands) keeps
	// its images where expandBlock made them: out is that array, filled
	// in place, not a copy of it.
	inPlace := len(l.images) == 1
	var out []Image
	if !inPlace {
		out = make([]Image, 0, len(l.images))
	}
	// Most blocks' paths are looked at, a batch at a time.
	l.stats.Expect(len(l.images))
	results := make([]expandResult, min(expandBatch, len(l.images)))
	// The images of the blocks of a batch that expandSimple evaluates,
	// with the ranges of their paths: they are copied to out before the
	// next batch is evaluated into them.
	simple := make([]Image, len(results))
	simpleRanges := make([]hcl.Range, len(results))
	for start := 0; start < len(l.images); start += expandBatch {
		batch := l.images[start:min(start+expandBatch, len(l.images))]
		parallel(len(batch), func(i int) {
			r := &results[i]
			if lb, ok := batch[i].block.Body.(*lazyBody); ok && l.expandSimple(batch[i], lb, &simple[i], &simpleRanges[i]) {
				r.images, r.ranges = simple[i:i+1:i+1], simpleRanges[i:i+1:i+1]
				return
			}
			// The worker's loader shares the read-only declarations and
			// collects its own diagnostics; it must not touch l.disk.
			sub := *l
			sub.diags = nil
			r.images, r.ranges = sub.expandBlock(batch[i])
			r.diags = sub.diags
		})
		l.batchLeaves(results[:len(batch)])
		// Room for the batch's images (a for_each block has thousands):
		// out and owners grow once a batch, not by doubling.
		n := 0
		for bi := range batch {
			n += len(results[bi].images)
		}
		if inPlace {
			out = results[0].images[:0]
		} else {
			out = slices.Grow(out, n)
		}
		if owners == nil {
			owners = make(map[string]pathOwner, max(n, len(l.images)))
		}
		for bi := range batch {
			r := &results[bi]
			l.diags = append(l.diags, r.diags...)
			for i := range r.images {
				img := &r.images[i] // out[j] for some j <= i when in place
				rng := r.ranges[i]
				exists, ok := l.checkOnDisk(img, r.leaves[i], rng)
				if !ok {
					continue
				}
				key := safepath.Key(img.Path)
				if prev, dup := owners[key]; dup {
					pi := &out[prev.image]
					if pi.Path == img.Path {
						l.errorf(rng.Ptr(), "Duplicate image path",
							fmt.Sprintf("%s and %s (declared at %s) both write %q, and each image needs its own file. Change the path of one of them.",
								img.Addr, pi.Addr, prev.at, img.Path))
					} else {
						l.errorf(rng.Ptr(), "Duplicate image path",
							fmt.Sprintf("%s writes %q and %s (declared at %s) writes %q: they differ in case only, so they are one file on a case-insensitive file system (macOS, Windows), and each image needs its own file. Change the path of one of them.",
								img.Addr, img.Path, pi.Addr, prev.at, pi.Path))
					}
					continue
				}
				owners[key] = pathOwner{image: len(out), at: posOf(rng)}
				img.OnDisk = exists
				out = append(out, *img)
			}
			*r = expandResult{}
			batch[bi] = nil
		}
	}
	l.images = nil
	if len(out) == 0 {
		return nil
	}
	return out
}

// batchLeaves makes the lstat of each image's own path in results (most
// of the file system checks: the directories are checked once each, by
// checkOnDisk), all at once, in parallel (safepath.Stats.Leaves), into
// each result's leaves. A path in a missing directory (every path of a
// first plan) needs none: checkOnDisk reads no leaf there.
func (l *loader) batchLeaves(results []expandResult) {
	n := 0
	for ri := range results {
		n += len(results[ri].images)
	}
	leaves := make([]leafState, n) // of all results, in one allocation
	ps := make([]string, 0, n)
	at := make([]*leafState, 0, n)
	// Paths in one directory come in runs: its lstat is looked up once
	// a run (Missing's answer for a directory is the same all run long).
	lastDir, lastMissing, looked := "", false, false
	for ri := range results {
		r := &results[ri]
		r.leaves, leaves = leaves[:len(r.images):len(r.images)], leaves[len(r.images):]
		for j := range r.images {
			p := r.images[j].Path
			if dir := path.Dir(p); !looked || dir != lastDir {
				lastDir, lastMissing, looked = dir, l.stats.Missing(dir), true
			}
			if !lastMissing {
				ps = append(ps, p)
				at = append(at, &r.leaves[j])
			}
		}
	}
	exists := make([]bool, len(ps))
	errs := make([]error, len(ps))
	l.stats.Leaves(l.dir, ps, exists, errs)
	for k, lf := range at {
		lf.exists, lf.err = exists[k], errs[k]
	}
}

// field is one attribute of an image block. An attribute that does not use
// each or count is evaluated and checked once for the whole block (and its
// errors reported once); the others once per instance.
type field[T any] struct {
	attr *hcl.Attribute
	ty   cty.Type
	// check is given the loader that evaluates: a worker's own when the
	// instances are evaluated in parallel, so that it reports there.
	check   func(l *loader, v cty.Value, rng hcl.Range, inst string) (T, bool)
	perInst bool
	ok      bool
	null    bool
	val     T
	// tmpl, when not nil, renders a per-instance string template without
	// an evaluation context (see instTemplate).
	tmpl *instTemplate
}

// blockFields are the fields of one image block, allocated together.
type blockFields struct {
	prompt, ratio, style, path, operation, mask, crop field[string]
	seed                                              field[int64]
	transparent                                       field[bool]
	resize                                            field[Resize]
	quality, candidates                               field[int]
}

// newField prepares attr (which may be nil) of an image block.
func newField[T any](l *loader, attr *hcl.Attribute, sc scope, ty cty.Type, check func(*loader, cty.Value, hcl.Range, string) (T, bool)) *field[T] {
	return new(field[T]).init(l, attr, sc, ty, check)
}

// init prepares f as newField does, and returns f.
func (f *field[T]) init(l *loader, attr *hcl.Attribute, sc scope, ty cty.Type, check func(*loader, cty.Value, hcl.Range, string) (T, bool)) *field[T] {
	*f = field[T]{attr: attr, ty: ty, check: check, ok: true, null: attr == nil}
	if attr == nil {
		return f
	}
	// The common constant forms, a literal of the field's type or a
	// template of text, variables and locals, are taken as they are:
	// their references check out and they evaluate to what HCL would
	// give, so that the general path below would find the same.
	if v, ok := l.constAttr(attr.Expr, ty); ok && !l.generalOnly {
		f.val, f.ok = f.check(l, v, attr.Expr.Range(), "")
		return f
	}
	r, ok := l.checkRefs(attr.Expr, sc)
	switch {
	case !ok:
		f.ok = false
	case r.each || r.count:
		f.perInst = true
		if ty == cty.String {
			f.tmpl = prepareTemplate(attr.Expr, l.base)
		}
	case ty == cty.String:
		// A template of text, variables and locals is joined here, as
		// HCL would evaluate it; any other is HCL's to evaluate.
		if v, ok := constTemplate(attr.Expr, l.base); ok {
			f.val, f.ok = f.check(l, v, attr.Expr.Range(), "")
			break
		}
		f.val, f.null, f.ok = f.eval(l, l.base, "")
	default:
		f.val, f.null, f.ok = f.eval(l, l.base, "")
	}
	return f
}

// eval evaluates and checks the field in ctx.
func (f *field[T]) eval(l *loader, ctx *hcl.EvalContext, inst string) (val T, null, ok bool) {
	v, ok := l.evalExpr(f.attr, ctx, f.ty, inst)
	if !ok {
		return val, false, false
	}
	if v.IsNull() {
		return val, true, true
	}
	val, ok = f.check(l, v, f.attr.Expr.Range(), inst)
	return val, false, ok
}

// get returns the field's value for one instance.
func (f *field[T]) get(l *loader, ctx *hcl.EvalContext, inst string) (val T, null, ok bool) {
	if !f.perInst || !f.ok {
		return f.val, f.null, f.ok
	}
	return f.eval(l, ctx, inst)
}

// at returns the field's value for the instance in, making in's
// evaluation context only when the field needs one.
func (f *field[T]) at(l *loader, in *instance, inst string) (val T, null, ok bool) {
	if !f.perInst || !f.ok {
		return f.val, f.null, f.ok
	}
	if f.tmpl != nil {
		if v, ok := f.tmpl.render(in); ok {
			val, ok = f.check(l, v, f.attr.Expr.Range(), inst)
			return val, false, ok
		}
	}
	return f.eval(l, l.contextOf(in), inst)
}

// contextOf returns in's evaluation context, made once.
func (l *loader) contextOf(in *instance) *hcl.EvalContext {
	if in.ctx == nil {
		in.ctx = l.instanceContext(*in)
	}
	return in.ctx
}

// expandBlock returns the instances of ib that evaluate cleanly, each with
// the range of its path. It runs on a worker: it must not check the file
// system.
func (l *loader) expandBlock(ib *imageBlock) (out []Image, ranges []hcl.Range) {
	b := ib.block
	attrs, diags := imageAttrs(b.Body, l.imageSchema)
	l.diags = append(l.diags, diags...)
	fe, ct := attrs.forEach, attrs.count
	blockOK := true
	if fe != nil && ct != nil {
		l.errorf(ct.NameRange.Ptr(), "Invalid combination of count and for_each",
			fmt.Sprintf("image %q sets both count and for_each; an image repeats by one or the other. Remove one of them.", ib.name))
		blockOK = false
	}
	promptAttr := attrs.prompt
	da := deriveAttrs{
		from: attrs.from, operation: attrs.operation, mask: attrs.mask, transparent: attrs.transparent,
		resize: attrs.resize, crop: attrs.crop, quality: attrs.quality,
		prompt: promptAttr, seed: attrs.seed, style: attrs.style, ratio: attrs.ratio,
		candidates: attrs.candidates,
	}
	if !l.checkDeriveBlock(ib.name, da) {
		blockOK = false
	}
	if promptAttr == nil && da.from == nil {
		l.errorf(&b.LabelRanges[0], "Missing prompt",
			fmt.Sprintf("image %q has no prompt, and every image needs one: add prompt = \"...\" describing the picture to generate.", ib.name))
		blockOK = false
	}

	var insts []instance
	switch {
	case fe != nil && ct == nil:
		insts = l.forEachInstances(ib, fe)
	case ct != nil && fe == nil:
		insts = l.countInstances(ib, ct)
	case fe == nil && ct == nil:
		insts = []instance{{addr: addrs.Addr{Name: ib.name}, ctx: l.base}}
	}

	sc := scope{each: fe != nil, count: ct != nil, image: ib.name}
	// The block's fields, in one allocation.
	fs := new(blockFields)
	prompt := fs.prompt.init(l, promptAttr, sc, cty.String, (*loader).checkPrompt)
	ratio := fs.ratio.init(l, attrs.ratio, sc, cty.String, (*loader).checkRatio)
	seed := fs.seed.init(l, attrs.seed, sc, cty.Number, (*loader).checkSeed)
	style := fs.style.init(l, attrs.style, sc, cty.String, (*loader).checkStyle)
	pathF := fs.path.init(l, attrs.path, sc, cty.String, (*loader).checkPath)
	var from *fromSpec
	if da.from != nil {
		from = l.newFrom(da.from, sc)
	}
	operation := fs.operation.init(l, da.operation, sc, cty.String, (*loader).checkOperation)
	checkMask := l.checkMask
	if checkMask == nil { // a loader not made by Load
		checkMask = checkSourceFile("mask")
	}
	mask := fs.mask.init(l, da.mask, sc, cty.String, checkMask)
	transparent := fs.transparent.init(l, da.transparent, sc, cty.Bool, checkBool)
	resize := fs.resize.init(l, da.resize, sc, cty.DynamicPseudoType, (*loader).checkResize)
	crop := fs.crop.init(l, da.crop, sc, cty.String, (*loader).checkCrop)
	quality := fs.quality.init(l, da.quality, sc, cty.Number, (*loader).checkQuality)
	candidates := fs.candidates.init(l, attrs.candidates, sc, cty.Number, (*loader).checkCandidates)
	if !blockOK {
		return nil, nil
	}

	defaultRange := b.LabelRanges[0]
	switch {
	case fe != nil:
		defaultRange = fe.Expr.Range()
	case ct != nil:
		defaultRange = ct.Expr.Range()
	}
	opChecked, opOK := false, true
	// one evaluates one instance, reporting through l (a worker's own
	// loader when instances are evaluated in parallel).
	one := func(l *loader, in instance) (img Image, pathRange hcl.Range, ok bool) {
		inst := ""
		if in.addr.Kind != addrs.NoKey {
			inst = in.addr.String()
		}
		img = Image{Addr: in.addr, DeclRange: b.DefRange, AspectRatio: DefaultAspectRatio, Style: l.provider.Style}
		ok = true
		if from != nil {
			img.AspectRatio, img.Style = "", ""
			ok = from.get(l, &img, l.contextOf(&in), inst)
		}
		p, null, pOK := prompt.at(l, &in, inst)
		if promptAttr == nil {
			pOK = true
		} else if pOK && null {
			l.errorf(promptAttr.Expr.Range().Ptr(), "Missing prompt",
				fmt.Sprintf("The prompt of image %q is null, and every image needs one: give it the text describing the picture to generate.%s", ib.name, inInstance(inst)))
			pOK = false
		}
		ok = ok && pOK
		img.Prompt = p
		if r, null, rOK := ratio.at(l, &in, inst); rOK && !null {
			img.AspectRatio = r
		} else {
			ok = ok && rOK
		}
		if s, null, sOK := seed.at(l, &in, inst); sOK && !null {
			img.Seed = s
		} else {
			ok = ok && sOK
		}
		styleSet := false
		if s, null, sOK := style.at(l, &in, inst); sOK && !null {
			img.Style = s
			styleSet = true
		} else {
			ok = ok && sOK
		}
		var deriveCtx *hcl.EvalContext // needed only by fields evaluated per instance
		if operation.perInst || mask.perInst || transparent.perInst || resize.perInst || crop.perInst || quality.perInst {
			deriveCtx = l.contextOf(&in)
		}
		ok = l.deriveFields(&img, deriveCtx, inst, deriveFields{operation, mask, transparent, resize, crop, quality}) && ok
		if n, null, nOK := candidates.at(l, &in, inst); nOK && !null {
			img.Candidates = n
		} else {
			ok = ok && nOK
		}
		ok = ok && l.checkTransparent(ib.name, da, &img, styleSet, inst)
		pathRange = defaultRange
		if pv, null, pathOK := pathF.at(l, &in, inst); pathOK && !null {
			img.Path = pv
			pathRange = pathF.attr.Expr.Range()
		} else if !pathOK {
			ok = false
		} else {
			def := "images/" + ib.name + ".png"
			if in.addr.Kind != addrs.NoKey {
				def = "images/" + ib.name + "-" + in.key + ".png"
			}
			img.Path, pathOK = l.checkPath(cty.StringVal(def), defaultRange, inst)
			ok = ok && pathOK
		}
		if ok && from != nil {
			// Checked once for a block whose operation and path are the
			// same in every instance, so that one mistake is one error.
			if !opChecked || operation.perInst || pathF.perInst {
				opOK = l.checkOperationFields(ib.name, da, &img, b.LabelRanges[0], inst)
				opChecked = true
			}
			ok = opOK
		}
		if ok && img.Transparent {
			if mt, _ := media.OfPath(img.Path); mt != media.PNG {
				l.errorf(da.transparent.NameRange.Ptr(), "Transparent image with a JPEG path",
					fmt.Sprintf("image %q sets transparent = true, and JPEG has no transparency, but it writes %q: give it a .png path.%s", ib.name, img.Path, inInstance(inst)))
				ok = false
			}
		}
		return img, pathRange, ok
	}
	if from != nil || len(insts) < parallelInstances {
		// A derived block checks its operation once for all instances
		// (opChecked): it keeps to one goroutine.
		for _, in := range insts {
			if img, rng, ok := one(l, in); ok {
				out = append(out, img)
				ranges = append(ranges, rng)
			}
		}
		return out, ranges
	}
	return l.expandInstances(insts, one)
}

// parallelInstances is the fewest instances of one block (for_each or
// count) that expandBlock evaluates on several goroutines.
const parallelInstances = 64

// instanceChunk is how many instances one goroutine evaluates at a time.
const instanceChunk = 16

// expandInstances calls one for every instance of insts, on up to
// GOMAXPROCS goroutines, and returns the images that evaluated cleanly
// with the ranges of their paths, and l gets the diagnostics, all in the
// order of insts, as one goroutine would have found them.
func (l *loader) expandInstances(insts []instance, one func(*loader, instance) (Image, hcl.Range, bool)) ([]Image, []hcl.Range) {
	images := make([]Image, len(insts))
	ranges := make([]hcl.Range, len(insts))
	kept := make([]bool, len(insts))
	diags := make([]hcl.Diagnostics, (len(insts)+instanceChunk-1)/instanceChunk)
	parallel(len(diags), func(c int) {
		sub := *l
		sub.diags = nil
		for i := c * instanceChunk; i < min((c+1)*instanceChunk, len(insts)); i++ {
			images[i], ranges[i], kept[i] = one(&sub, insts[i])
		}
		diags[c] = sub.diags
	})
	for _, d := range diags {
		l.diags = append(l.diags, d...)
	}
	n := 0
	for i := range insts {
		if kept[i] {
			images[n], ranges[n] = images[i], ranges[i]
			n++
		}
	}
	clear(images[n:])
	if n == 0 {
		return nil, nil
	}
	return images[:n:n], ranges[:n:n]
}

// forEachInstances evaluates for_each into one instance per key.
func (l *loader) forEachInstances(ib *imageBlock, fe *hcl.Attribute) []instance {
	sc := scope{place: fmt.Sprintf("the for_each of image %q", ib.name)}
	v, ok := l.evalAttr(fe, l.base, sc, cty.DynamicPseudoType, "")
	if !ok {
		return nil
	}
	rng := fe.Expr.Range()
	bad := func(why string) []instance {
		l.errorf(rng.Ptr(), "Invalid for_each argument",
			fmt.Sprintf("for_each must be a map, or a set of strings, whose keys name the instances; %s. To repeat over a list of strings, convert it: for_each = toset([...]).", why))
		return nil
	}
	if v.IsNull() {
		return bad("this is null")
	}
	ty := v.Type()
	var insts []instance
	add := func(key string, val cty.Value) {
		insts = append(insts, instance{addr: addrs.Addr{Name: ib.name, Kind: addrs.StringKey, Key: key}, key: key, each: val})
	}
	switch {
	case ty.IsMapType() || ty.IsObjectType():
		insts = make([]instance, 0, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			k, val := it.Element()
			add(k.AsString(), val)
		}
	case ty.IsSetType():
		if !ty.ElementType().Equals(cty.String) {
			return bad("this is a " + ty.FriendlyName())
		}
		insts = make([]instance, 0, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			_, k := it.Element()
			if k.IsNull() {
				return bad("this set holds a null element")
			}
			add(k.AsString(), k)
		}
	default:
		return bad("this is a " + ty.FriendlyName())
	}
	return insts
}

// countInstances evaluates count into instances 0..count-1.
func (l *loader) countInstances(ib *imageBlock, ct *hcl.Attribute) []instance {
	sc := scope{place: fmt.Sprintf("the count of image %q", ib.name)}
	v, ok := l.evalAttr(ct, l.base, sc, cty.Number, "")
	if !ok {
		return nil
	}
	n, whole := int64(-1), false
	if !v.IsNull() {
		n, whole = wholeNumber(v)
	}
	if !whole || n < 0 || n > MaxCount {
		shown := "null"
		if !v.IsNull() {
			shown = numText(v)
		}
		l.errorf(ct.Expr.Range().Ptr(), "Invalid count argument",
			fmt.Sprintf("count must be a whole number from 0 to %d, not %s.", MaxCount, shown))
		return nil
	}
	insts := make([]instance, n)
	for i := range insts {
		insts[i] = instance{addr: addrs.Addr{Name: ib.name, Kind: addrs.IntKey, Index: i}, key: strconv.Itoa(i)}
	}
	return insts
}

// checkPrompt refuses an empty prompt.
func (l *loader) checkPrompt(v cty.Value, rng hcl.Range, inst string) (string, bool) {
	s := v.AsString()
	if strings.TrimSpace(s) == "" {
		l.errorf(rng.Ptr(), "Empty prompt",
			"The prompt is empty, and the API needs a description of the picture to generate: write one."+inInstance(inst))
		return "", false
	}
	return s, true
}

// checkRatio accepts only the vendor's aspect ratios.
func (l *loader) checkRatio(v cty.Value, rng hcl.Range, inst string) (string, bool) {
	s := v.AsString()
	for _, r := range AspectRatios {
		if s == r {
			return r, true // one string for every image
		}
	}
	hint := ""
	norm := strings.NewReplacer("x", ":", "X", ":", "/", ":", " ", "", "×", ":").Replace(s)
	for _, r := range AspectRatios {
		if norm == r {
			hint = fmt.Sprintf(" Did you mean %q?", r)
		}
	}
	l.errorf(rng.Ptr(), "Unsupported aspect ratio",
		fmt.Sprintf("%q is not an aspect ratio the API accepts.%s Use one of %s.%s", s, hint, quotedList(AspectRatios), inInstance(inst)))
	return "", false
}

// checkStyle accepts only the vendor's styles.
func (l *loader) checkStyle(v cty.Value, rng hcl.Range, inst string) (string, bool) {
	s := v.AsString()
	for _, st := range Styles {
		if s == st {
			return st, true // one string for every image
		}
	}
	l.errorf(rng.Ptr(), "Unsupported style",
		fmt.Sprintf("%q is not a style the API offers.%s Use one of %s.%s", s, didYouMean(s, Styles), quotedList(Styles), inInstance(inst)))
	return "", false
}

// checkSeed accepts whole numbers from 1 to providers.MaxSeed.
func (l *loader) checkSeed(v cty.Value, rng hcl.Range, inst string) (int64, bool) {
	n, ok := wholeNumber(v)
	if !ok || n < 1 || n > providers.MaxSeed {
		l.errorf(rng.Ptr(), "Invalid seed",
			fmt.Sprintf("seed must be a whole number from 1 to %d, not %s. Leave seed out to have pixform pick one and record it in the lockfile.%s",
				int64(providers.MaxSeed), numText(v), inInstance(inst)))
		return 0, false
	}
	return n, true
}

// checkCandidates accepts whole numbers from 1 to state's MaxCandidates.
func (l *loader) checkCandidates(v cty.Value, rng hcl.Range, inst string) (int, bool) {
	n, ok := wholeNumber(v)
	if !ok || n < 1 || n > MaxCandidates {
		l.errorf(rng.Ptr(), "Invalid candidates",
			fmt.Sprintf("candidates must be a whole number from 1 to %d, not %s: it is how many takes of the image to render, to pick one of with pixform pick.%s",
				MaxCandidates, numText(v), inInstance(inst)))
		return 0, false
	}
	return int(n), true
}

// checkPath cleans an image path and refuses one that is absolute, leaves
// the working directory lexically, or has an extension other than .png,
// .jpg or .jpeg. Symbolic links are checked later, by expandImages.
func (l *loader) checkPath(v cty.Value, rng hcl.Range, inst string) (string, bool) {
	return l.checkRelPath(v, rng, inst, imagePathText)
}

// pathText is what the checks of a path attribute say, where the
// attributes differ: an image's path is written, a source file is read.
type pathText struct {
	noun    string // "image", or the attribute: "from", "mask"
	example string // a path to show, such as "assets/hero.png"
	empty   string // the detail of an empty path
	outside string // what follows "leads outside … (it cleans to …)."
	ext     string // the detail of a bad extension: %q the path, %s the extensions
	// unsafe says what is wrong with a path safepath.Check refuses.
	unsafe func(raw, p string, err error) (summary, detail string)
}

var imagePathText = pathText{
	noun:    "image",
	example: "assets/hero.png",
	empty:   "path is empty; give the file to write, relative to the working directory, such as \"assets/hero.png\", or leave path out for the default images/NAME.png.",
	outside: "Keep images inside the directory that holds the configuration.",
	ext:     "The extension of %q names the file's format and must be %s.",
	unsafe: func(raw, p string, err error) (string, string) {
		var pe *safepath.Error
		switch {
		case errors.As(err, &pe) && pe.Reason == safepath.Reserved:
			return "Image path inside pixform's own directory", fmt.Sprintf("%q is under .pixform/ (in any case, since a case-insensitive file system folds it), which holds pixform's local caches and is never committed. Choose a path outside it, such as \"images/%s\".", raw, path.Base(p))
		case errors.As(err, &pe) && pe.Reason == safepath.VCS:
			return "Image path inside a version-control directory", fmt.Sprintf("%s. pixform never writes there, so that no configuration can change or delete a repository's own files. Choose a path outside it, such as \"images/%s\".", err, path.Base(p))
		}
		return "Invalid image path", err.Error() + "."
	},
}

// checkRelPath applies the rules every path a configuration names obeys,
// in one order, worded by t: not empty, forward slashes, no NUL, relative,
// inside the working directory once cleaned, an image extension, and
// safepath's rules. It returns the cleaned path.
func (l *loader) checkRelPath(v cty.Value, rng hcl.Range, inst string, t pathText) (string, bool) {
	p, summary, detail := relPath(v.AsString(), t)
	if summary != "" {
		l.errorf(rng.Ptr(), summary, detail+inInstance(inst))
		return "", false
	}
	return p, true
}

// relPath is checkRelPath without a loader: the cleaned path, or what is
// wrong with raw (summary and detail; summary "" when nothing is).
func relPath(raw string, t pathText) (p, summary, detail string) {
	switch {
	case strings.TrimSpace(raw) == "":
		return "", "Empty " + t.noun + " path", t.empty
	case strings.ContainsRune(raw, '\\'):
		return "", "Backslash in " + t.noun + " path", fmt.Sprintf("%q contains a backslash; separate directories with forward slashes, as in %q, on every system.", raw, t.example)
	case strings.ContainsRune(raw, 0):
		return "", "Invalid " + t.noun + " path", fmt.Sprintf("%q contains a NUL character, which no file name may hold.", raw)
	case path.IsAbs(raw) || isWindowsAbs(raw):
		return "", "Absolute " + t.noun + " path", fmt.Sprintf("%q is absolute, and %s paths are relative to the working directory so that the configuration works in every checkout. Write it like %q.", raw, t.noun, t.example)
	}
	p = path.Clean(raw)
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", strings.ToUpper(t.noun[:1]) + t.noun[1:] + " path escapes the working directory", fmt.Sprintf("%q leads outside the working directory (it cleans to %q). %s", raw, p, t.outside)
	}
	if _, ok := media.OfPath(p); !ok {
		return "", "Unsupported " + t.noun + " file extension", fmt.Sprintf(t.ext, raw, media.Extensions)
	}
	if err := safepath.Check(p); err != nil {
		summary, detail = t.unsafe(raw, p, err)
		return "", summary, detail
	}
	return p, "", ""
}

// isWindowsAbs reports a path that starts with a drive letter, like C:/x.
func isWindowsAbs(p string) bool {
	return len(p) >= 2 && p[1] == ':' && (p[0] >= 'a' && p[0] <= 'z' || p[0] >= 'A' && p[0] <= 'Z')
}

// where renders the start of a range as file:line:col, the form every
// message of pixform uses for a place in the configuration.
func where(r hcl.Range) string { return posOf(r).String() }
