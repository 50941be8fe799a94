package config

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/edits"
	"github.com/pixform/pixform/internal/nofollow"
	"github.com/pixform/pixform/internal/safepath"
	"github.com/pixform/pixform/media"
)

// Fits of a local resize: how an image meets a box of another shape.
const (
	FitContain = "contain" // the whole image inside the box (the default)
	FitCover   = "cover"   // the box filled, the overflow cut off, centred
	FitFill    = "fill"    // stretched to the box
)

// Fits lists the accepted resize fits.
var Fits = []string{FitContain, FitCover, FitFill}

// MaxResize is the largest width or height a local resize may ask for.
const MaxResize = 16384

// Resize is a local resize: Width or Height may be 0 (keep the ratio),
// not both; Fit is one of Fits when both are set, else "".
type Resize struct {
	Width, Height int
	Fit           string
}

// IsZero reports that no resize is asked for.
func (r Resize) IsZero() bool { return r == Resize{} }

// Operations lists the accepted values of operation: the vendor's edit
// endpoints that take an image, in the order messages name them.
var Operations = edits.Ops()

// operationSpec returns what operation op asks of its image block; a
// local edit ("") takes none of prompt, mask and seed.
func operationSpec(op string) (edits.Spec, bool) {
	if op == "" {
		return edits.Spec{Local: true, Image: true}, true
	}
	s, ok := edits.Lookup(op)
	if !ok || s.Local || !s.Image {
		return edits.Spec{}, false
	}
	return s, true
}

// Derived reports whether img is made from another image or a file.
func (img *Image) Derived() bool { return !img.From.IsZero() || img.FromFile != "" }

// Source names what a derived image is made from: the source image's
// address ("image.hero") or the file's path; "" when not derived.
func (img *Image) Source() string {
	if !img.From.IsZero() {
		return img.From.String()
	}
	return img.FromFile
}

// Local reports whether a derived image is made here, without a request:
// a resize, a crop or a change of format.
func (img *Image) Local() bool { return img.Derived() && img.Operation == "" }

// fromSpec is the from attribute of an image block: either a reference
// to another image (name, and a key: static, or an expression of the
// instance) or the path of a checked-in file.
type fromSpec struct {
	attr   *hcl.Attribute
	ok     bool
	isRef  bool
	name   string         // the referenced block
	key    hcl.Expression // the index expression, nil for none
	static *addrs.Addr    // the address when it needs no instance
	file   *field[string] // when from is a path
}

// newFrom reads the from attribute. A reference is checked by shape here
// and against the declared images once every block is expanded.
func (l *loader) newFrom(attr *hcl.Attribute, sc scope) *fromSpec {
	f := &fromSpec{attr: attr, ok: true}
	isRef := false
	for _, t := range attr.Expr.Variables() {
		if t.RootName() == "image" {
			isRef = true
		}
	}
	if !isRef {
		f.file = newField(l, attr, sc, cty.String, checkSourceFile("from"))
		f.ok = f.file.ok
		return f
	}
	f.isRef = true
	bad := func() *fromSpec {
		l.errorf(attr.Expr.Range().Ptr(), "Invalid from",
			"from must be a reference to another image, such as image.hero, image.icon[\"home\"], image.icon[each.key] or image.variant[0], or the path of a checked-in file in quotes, such as \"photos/shelf.jpg\".")
		f.ok = false
		return f
	}
	if trav, diags := hcl.AbsTraversalForExpr(attr.Expr); !diags.HasErrors() {
		name, ok := imageStep(trav)
		if !ok || len(trav) > 3 {
			return bad()
		}
		f.name = name
		a := addrs.Addr{Name: name}
		if len(trav) == 3 {
			ix, isIx := trav[2].(hcl.TraverseIndex)
			if !isIx {
				return bad()
			}
			var keyOK bool
			a, keyOK = l.keyAddr(name, ix.Key, ix.SrcRange, "")
			if !keyOK {
				f.ok = false
				return f
			}
		}
		f.static = &a
		return f
	}
	ie, ok := attr.Expr.(*hclsyntax.IndexExpr)
	if !ok {
		return bad()
	}
	trav, diags := hcl.AbsTraversalForExpr(ie.Collection)
	name, nameOK := imageStep(trav)
	if diags.HasErrors() || !nameOK || len(trav) != 2 {
		return bad()
	}
	for _, t := range ie.Key.Variables() {
		if t.RootName() == "image" {
			return bad()
		}
	}
	if _, refsOK := l.checkRefs(ie.Key, sc); !refsOK {
		f.ok = false
		return f
	}
	f.name, f.key = name, ie.Key
	return f
}

// imageStep returns NAME of a traversal image.NAME...
func imageStep(t hcl.Traversal) (string, bool) {
	if len(t) < 2 || t.RootName() != "image" {
		return "", false
	}
	a, ok := t[1].(hcl.TraverseAttr)
	if !ok {
		return "", false
	}
	return a.Name, true
}

// keyAddr makes the address of instance key of image name.
func (l *loader) keyAddr(name string, key cty.Value, rng hcl.Range, inst string) (addrs.Addr, bool) {
	if key.IsNull() || !key.IsKnown() {
		l.errorf(rng.Ptr(), "Invalid from", "The instance key of the referenced image is null or unknown; give the key of a for_each instance (a string) or the index of a count instance (a number)."+inInstance(inst))
		return addrs.Addr{}, false
	}
	switch key.Type() {
	case cty.String:
		return addrs.Addr{Name: name, Kind: addrs.StringKey, Key: key.AsString()}, true
	case cty.Number:
		n, ok := wholeNumber(key)
		if ok && n >= 0 && n < MaxCount {
			return addrs.Addr{Name: name, Kind: addrs.IntKey, Index: int(n)}, true
		}
		l.errorf(rng.Ptr(), "Invalid from", fmt.Sprintf("The index of the referenced image must be a whole number from 0, not %s.%s", numText(key), inInstance(inst)))
		return addrs.Addr{}, false
	}
	l.errorf(rng.Ptr(), "Invalid from", fmt.Sprintf("The instance key of the referenced image must be a string (for_each) or a number (count), not a %s.%s", key.Type().FriendlyName(), inInstance(inst)))
	return addrs.Addr{}, false
}

// get resolves the source of one instance into img.
func (f *fromSpec) get(l *loader, img *Image, ctx *hcl.EvalContext, inst string) bool {
	if !f.ok {
		return false
	}
	rng := f.attr.Expr.Range()
	img.derive = &deriveRanges{from: rng}
	if !f.isRef {
		p, null, ok := f.file.get(l, ctx, inst)
		if ok && null {
			l.errorf(rng.Ptr(), "Invalid from", "from is null; give the image or file this image is made from, or remove from."+inInstance(inst))
			return false
		}
		img.FromFile = p
		return ok
	}
	if f.static != nil {
		img.From = *f.static
		return true
	}
	v, diags := f.key.Value(ctx)
	if inst != "" {
		for _, d := range diags {
			d.Detail = fmt.Sprintf("%s (in %s)", d.Detail, inst)
		}
	}
	l.addDiags(diags, f.key.Range())
	if diags.HasErrors() {
		return false
	}
	a, ok := l.keyAddr(f.name, v, f.key.Range(), inst)
	img.From = a
	return ok
}

// checkSourceFile returns the check of a file that an image is made from
// (attr is "from" or "mask"): the path rules of an image path. That the
// file is there, and reached through no link, is checked by resolveDerived.
func checkSourceFile(attr string) func(l *loader, v cty.Value, rng hcl.Range, inst string) (string, bool) {
	t := pathText{
		noun:    attr,
		example: "photos/shelf.jpg",
		empty:   fmt.Sprintf("%s is empty; give a checked-in image file relative to the working directory, such as \"photos/shelf.jpg\".", attr),
		outside: "pixform reads only files inside the directory that holds the configuration.",
		ext:     "%q must be an image file: its extension must be %s.",
		unsafe: func(_, _ string, err error) (string, string) {
			return "Invalid " + attr + " path", fmt.Sprintf("%v. pixform reads no file there; keep source images elsewhere in the working directory.", err)
		},
	}
	return func(l *loader, v cty.Value, rng hcl.Range, inst string) (string, bool) {
		return l.checkRelPath(v, rng, inst, t)
	}
}

// checkOperation accepts the known operations.
func (l *loader) checkOperation(v cty.Value, rng hcl.Range, inst string) (string, bool) {
	s := v.AsString()
	if _, ok := operationSpec(s); ok && s != "" {
		return s, true
	}
	l.errorf(rng.Ptr(), "Unknown operation",
		fmt.Sprintf("%q is not an operation pixform knows.%s Use one of %s; for a local resize or crop, leave operation out and set resize or crop.%s",
			s, didYouMean(s, Operations), quotedList(Operations), inInstance(inst)))
	return "", false
}

func checkBool(_ *loader, v cty.Value, _ hcl.Range, _ string) (bool, bool) { return v.True(), true }

// checkResize accepts { width, height, fit }.
func (l *loader) checkResize(v cty.Value, rng hcl.Range, inst string) (Resize, bool) {
	bad := func(detail string) (Resize, bool) {
		l.errorf(rng.Ptr(), "Invalid resize", detail+inInstance(inst))
		return Resize{}, false
	}
	ty := v.Type()
	if !ty.IsObjectType() && !ty.IsMapType() {
		return bad(fmt.Sprintf("resize must be an object such as { width = 640 } or { width = 640, height = 480, fit = \"cover\" }, not a %s.", ty.FriendlyName()))
	}
	var r Resize
	for it := v.ElementIterator(); it.Next(); {
		k, val := it.Element()
		name := k.AsString()
		if val.IsNull() {
			continue
		}
		switch name {
		case "width", "height":
			n, ok := int64(0), false
			if val.Type() == cty.Number {
				n, ok = wholeNumber(val)
			}
			if !ok || n < 1 || n > MaxResize {
				return bad(fmt.Sprintf("resize.%s must be a whole number of pixels from 1 to %d.", name, MaxResize))
			}
			if name == "width" {
				r.Width = int(n)
			} else {
				r.Height = int(n)
			}
		case "fit":
			s := ""
			if val.Type() == cty.String {
				s = val.AsString()
			}
			if !slices.Contains(Fits, s) {
				return bad(fmt.Sprintf("resize.fit must be one of %s.%s", quotedList(Fits), didYouMean(s, Fits)))
			}
			r.Fit = s
		default:
			return bad(fmt.Sprintf("resize has no attribute %q; it takes width, height and fit.%s", name, didYouMean(name, []string{"width", "height", "fit"})))
		}
	}
	switch {
	case r.Width == 0 && r.Height == 0:
		return bad("resize needs a width, a height or both; with one of them, the other follows the image's ratio.")
	case r.Fit != "" && (r.Width == 0 || r.Height == 0):
		return bad("resize.fit says how the image meets a box of both width and height; give both, or remove fit.")
	case r.Width > 0 && r.Height > 0 && r.Fit == "":
		r.Fit = FitContain
	}
	return r, true
}

// checkCrop accepts an aspect ratio "W:H" of positive whole numbers.
func (l *loader) checkCrop(v cty.Value, rng hcl.Range, inst string) (string, bool) {
	s := v.AsString()
	w, h, ok := strings.Cut(s, ":")
	wn, werr := strconv.Atoi(w)
	hn, herr := strconv.Atoi(h)
	if !ok || werr != nil || herr != nil || wn < 1 || hn < 1 || wn > 1000 || hn > 1000 || strconv.Itoa(wn) != w || strconv.Itoa(hn) != h {
		l.errorf(rng.Ptr(), "Invalid crop",
			fmt.Sprintf("crop is the aspect ratio to cut the image to, centred, such as \"16:9\" or \"1:1\": two whole numbers from 1 to 1000 around a colon, not %q.%s", s, inInstance(inst)))
		return "", false
	}
	return s, true
}

// checkQuality accepts a JPEG quality from 1 to 100.
func (l *loader) checkQuality(v cty.Value, rng hcl.Range, inst string) (int, bool) {
	n, ok := wholeNumber(v)
	if !ok || n < 1 || n > 100 {
		l.errorf(rng.Ptr(), "Invalid quality",
			fmt.Sprintf("quality is the JPEG quality of a locally made image, a whole number from 1 to 100, not %s.%s", numText(v), inInstance(inst)))
		return 0, false
	}
	return int(n), true
}

// deriveAttrs are the attributes of an image block about derived images.
type deriveAttrs struct {
	from, operation, mask, transparent, resize, crop, quality *hcl.Attribute
	prompt, seed, style, ratio                                *hcl.Attribute
	candidates                                                *hcl.Attribute
}

// checkDeriveBlock reports, once per block, attributes that do not go
// together whatever their values. ok is false when the block must not be
// expanded.
func (l *loader) checkDeriveBlock(name string, a deriveAttrs) bool {
	ok := true
	refuse := func(attr *hcl.Attribute, summary, detail string) {
		if attr != nil {
			l.errorf(attr.NameRange.Ptr(), summary, detail)
			ok = false
		}
	}
	if a.from == nil {
		for _, attr := range []*hcl.Attribute{a.operation, a.mask, a.resize, a.crop, a.quality} {
			if attr == nil {
				continue // most blocks: no message to format
			}
			refuse(attr, "Argument needs from",
				fmt.Sprintf("image %q sets %s, which applies to an image made from another: add from = image.NAME (or the path of a checked-in file), or remove %s.", name, attrName(attr), attrName(attr)))
		}
		// transparent with style or candidates is checked per instance,
		// on the value of transparent (checkTransparent).
		return ok
	}
	refuse(a.candidates, "Candidates on a derived image",
		fmt.Sprintf("image %q is made from another image, and candidates applies to a text-to-image block (an image rendered from its prompt): remove candidates, or set candidates on the image it is made from and pick a take there.", name))
	refuse(a.transparent, "Transparent on a derived image",
		fmt.Sprintf("image %q is made from another image, and transparent applies to an image rendered from its prompt. To cut a subject out of its background, use operation = %q.", name, edits.RemoveBackground))
	refuse(a.style, "Style on a derived image",
		fmt.Sprintf("image %q is made from another image and takes no style: remove style.", name))
	refuse(a.ratio, "Aspect ratio on a derived image",
		fmt.Sprintf("image %q is made from another image and keeps its aspect ratio; to change it, use crop = \"16:9\" (without operation), or remove aspect_ratio.", name))
	if a.operation != nil {
		for _, attr := range []*hcl.Attribute{a.resize, a.crop, a.quality} {
			refuse(attr, "Operation with a local edit",
				fmt.Sprintf("image %q sets both operation and %s. One image is one step: declare another image with from = image.%s and %s.", name, attrName(attr), name, attrName(attr)))
		}
	}
	return ok
}

func attrName(a *hcl.Attribute) string {
	if a == nil {
		return ""
	}
	return a.Name
}

// checkOperationFields reports, for operation op (or a local edit, ""),
// a field it needs and lacks or is given and does not take. img holds
// the instance's values.
func (l *loader) checkOperationFields(name string, a deriveAttrs, img *Image, blockRange hcl.Range, inst string) bool {
	spec, _ := operationSpec(img.Operation)
	what := fmt.Sprintf("operation %q", img.Operation)
	if img.Operation == "" {
		what = "a local edit (resize, crop or a change of format)"
	}
	ok := true
	need := func(attr *hcl.Attribute, field, example string) {
		if attr == nil {
			subject := blockRange
			if a.operation != nil {
				subject = a.operation.Expr.Range()
			}
			l.errorf(&subject, "Missing "+field,
				fmt.Sprintf("image %q uses %s, which needs %s: add %s.%s", name, what, field, example, inInstance(inst)))
			ok = false
		}
	}
	refuse := func(attr *hcl.Attribute, field string) {
		if attr != nil {
			l.errorf(attr.NameRange.Ptr(), "Unexpected "+field,
				fmt.Sprintf("image %q uses %s, which takes no %s: remove it.%s", name, what, field, inInstance(inst)))
			ok = false
		}
	}
	if spec.Prompt {
		need(a.prompt, "prompt", "prompt = \"...\"")
	} else {
		refuse(a.prompt, "prompt")
	}
	if spec.Mask {
		need(a.mask, "mask", "mask = \"photos/NAME-mask.png\" (white where to fill)")
	} else {
		refuse(a.mask, "mask")
	}
	if !spec.Seed {
		refuse(a.seed, "seed")
	}
	if img.Quality != 0 {
		if mt, _ := media.OfPath(img.Path); mt != media.JPEG {
			l.errorf(a.quality.NameRange.Ptr(), "Quality of a PNG image",
				fmt.Sprintf("quality applies to JPEG output, and image %q writes %q: give it a .jpg path, or remove quality.%s", name, img.Path, inInstance(inst)))
			ok = false
		}
	}
	return ok
}

// resolveDerived checks what needs every image: that each reference names
// a declared image, that no image derives from itself through others,
// and that each source file and mask is there. images is sorted by
// address. It clears the range each derived image carried for it.
func (l *loader) resolveDerived(images []Image) {
	derived := 0
	for i := range images {
		if images[i].derive != nil {
			derived++
		}
	}
	if derived == 0 {
		return
	}
	index := make(map[addrs.Addr]int, len(images))
	blocks := map[string]bool{}
	for i := range images {
		index[images[i].Addr] = i
		if images[i].Addr.Kind != addrs.NoKey {
			blocks[images[i].Addr.Name] = true
		}
	}
	byPath := map[string]addrs.Addr{}
	for i := range images {
		byPath[safepath.Key(images[i].Path)] = images[i].Addr
	}
	for i := range images {
		img := &images[i]
		if img.derive == nil {
			continue
		}
		rng := img.derive.from
		switch {
		case !img.From.IsZero():
			if _, ok := index[img.From]; ok {
				break
			}
			if img.From.Kind == addrs.NoKey && blocks[img.From.Name] {
				l.errorf(&rng, "Reference to a repeated image",
					fmt.Sprintf("%s has several instances (%s): name one, such as %s.%s", img.From, repeatedBy(images, img.From), instanceExamples(images, img.From, img.Addr), inInstance(instOf(img.Addr))))
				continue
			}
			// A key is more likely mistyped than the name: offer the
			// block's own instances first.
			var same []addrs.Addr
			for j := range images {
				if images[j].Addr.Name == img.From.Name {
					same = append(same, images[j].Addr)
				}
			}
			options := same
			if len(options) == 0 {
				for j := range images {
					if images[j].Addr != img.Addr {
						options = append(options, images[j].Addr)
					}
				}
			}
			hint := ""
			if s := SuggestAddr(img.From, options); s != "" {
				hint = fmt.Sprintf(" Did you mean %s?", s)
			}
			l.errorf(&rng, "Reference to an undeclared image",
				fmt.Sprintf("%s derives from %s, and no image has that address.%s Declare it, or correct the reference.", img.Addr, img.From, hint))
		case img.FromFile != "":
			l.checkSourceOnDisk(img, img.FromFile, "from", rng, byPath)
		}
		if img.Mask != "" && l.checkSourceOnDisk(img, img.Mask, "mask", img.derive.mask, byPath) {
			if w, h, ok := imageSize(l.dir, img.Mask); ok {
				img.MaskWidth, img.MaskHeight = w, h
			}
			if img.FromFile != "" {
				l.checkMaskSize(img)
			}
		}
	}
	// Cycles: a walk from every derived image along its from edges.
	const (
		unvisited = iota
		onPath
		done
	)
	state := make([]uint8, len(images))
	for i := range images {
		if state[i] != unvisited || images[i].From.IsZero() {
			continue
		}
		var path []int
		j := i
		for {
			if state[j] == done {
				break
			}
			if state[j] == onPath {
				// The loop is path from j's position.
				at := slices.Index(path, j)
				loop := path[at:]
				names := make([]string, 0, len(loop)+1)
				for _, k := range loop {
					names = append(names, images[k].Addr.String())
				}
				names = append(names, images[j].Addr.String())
				first := loop[0]
				for _, k := range loop {
					if images[k].Addr.Less(images[first].Addr) {
						first = k
					}
				}
				l.errorf(images[first].derive.from.Ptr(), "Cycle in derived images",
					fmt.Sprintf("These images are made from each other in a circle: %s. An image cannot be made from itself; make one of them from a prompt or a file.", strings.Join(names, " → ")))
				break
			}
			state[j] = onPath
			path = append(path, j)
			if images[j].From.IsZero() {
				break
			}
			next, ok := index[images[j].From]
			if !ok {
				break
			}
			j = next
		}
		for _, k := range path {
			state[k] = done
		}
	}
	for i := range images {
		images[i].derive = nil
	}
}

// deriveRanges are where a derived image's from and mask are declared,
// for the diagnostics of resolveDerived; Load drops them.
type deriveRanges struct {
	from, mask hcl.Range
}

// checkSourceOnDisk refuses a from file or mask that is missing, is not a
// regular file, goes through a symbolic link, or is the output of an
// image (whose bytes are then a reference away).
func (l *loader) checkSourceOnDisk(img *Image, p, attr string, rng hcl.Range, byPath map[string]addrs.Addr) bool {
	inst := inInstance(instOf(img.Addr))
	if owner, ok := byPath[safepath.Key(p)]; ok {
		l.errorf(&rng, "Source file is an image's output",
			fmt.Sprintf("%s reads %q, which %s writes: refer to the image instead (from = %s), so that the plan knows the order and what changes with it.%s", img.Addr, p, owner, owner, inst))
		return false
	}
	exists, err := l.disk.Check(p)
	var pe *safepath.Error
	switch {
	case errors.As(err, &pe) && pe.Reason == safepath.Symlink:
		l.errorf(&rng, "Source file goes through a symbolic link",
			fmt.Sprintf("%s %q goes through the symbolic link %q. pixform never reads through a symbolic link, so that no configuration can lead it outside the working directory: check the real file in.%s", attr, p, pe.Link, inst))
		return false
	case err != nil:
		l.errorf(&rng, "Source file cannot be checked", fmt.Sprintf("%v. Check the permissions of the directories on the way.%s", err, inst))
		return false
	case !exists:
		l.errorf(&rng, "Source file not found",
			fmt.Sprintf("%s %q does not exist. Check the file in at that path (relative to the working directory), or correct the path.%s", attr, p, inst))
		return false
	}
	return true
}

// checkMaskSize refuses a mask whose dimensions differ from those of the
// file it masks, as the endpoint would, when both are checked-in files
// whose headers can be read (an image source is checked by the endpoint).
func (l *loader) checkMaskSize(img *Image) {
	sw, sh, okS := imageSize(l.dir, img.FromFile)
	mw, mh := img.MaskWidth, img.MaskHeight
	if !okS || mw == 0 || (sw == mw && sh == mh) {
		return
	}
	l.errorf(img.derive.mask.Ptr(), "Mask of other dimensions",
		fmt.Sprintf("mask %q is %d×%d pixels and %q is %d×%d: generative-fill needs a mask of the same dimensions as its image. Resize the mask.%s",
			img.Mask, mw, mh, img.FromFile, sw, sh, inInstance(instOf(img.Addr))))
}

// imageSize reads the dimensions in the header of the PNG or JPEG file at
// p (checked by safepath already); ok is false when it cannot.
func imageSize(dir, p string) (w, h int, ok bool) {
	f, err := nofollow.OpenFile(filepath.Join(dir, filepath.FromSlash(p)), os.O_RDONLY, 0)
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	br := bufio.NewReader(f)
	head, _ := br.Peek(8)
	var cfg image.Config
	switch mt := media.Sniff(head); mt {
	case media.PNG:
		cfg, err = png.DecodeConfig(br)
	case media.JPEG:
		cfg, err = jpeg.DecodeConfig(br)
	default:
		return 0, 0, false
	}
	return cfg.Width, cfg.Height, err == nil
}

// instOf is the address of an instance for messages, "" for a single image.
// firstInstance returns an instance of from's repeated block, if any.
func firstInstance(images []Image, from addrs.Addr) (addrs.Addr, bool) {
	for i := range images {
		if images[i].Addr.Name == from.Name {
			return images[i].Addr, true
		}
	}
	return addrs.Addr{}, false
}

// repeatedBy says how from's block is repeated: for_each (its instances
// have string keys) or count.
func repeatedBy(images []Image, from addrs.Addr) string {
	switch a, ok := firstInstance(images, from); {
	case !ok:
		return "for_each or count"
	case a.Kind == addrs.StringKey:
		return "for_each"
	}
	return "count"
}

// instanceExamples shows how the image at referrer can name one instance
// of the repeated block of from: by its own each.key or count.index when
// it is repeated the same way, and by one instance itself.
func instanceExamples(images []Image, from, referrer addrs.Addr) string {
	a, ok := firstInstance(images, from)
	switch {
	case !ok:
		return from.String() + "[0]"
	case a.Kind == addrs.StringKey && referrer.Kind == addrs.StringKey:
		return fmt.Sprintf("%s[each.key] or %s", from, a)
	case a.Kind == addrs.IntKey && referrer.Kind == addrs.IntKey:
		return fmt.Sprintf("%s[count.index] or %s", from, a)
	}
	return a.String()
}

func instOf(a addrs.Addr) string {
	if a.Kind == addrs.NoKey {
		return ""
	}
	return a.String()
}

// deriveFields are the prepared derived-image attributes of a block.
type deriveFields struct {
	operation, mask *field[string]
	transparent     *field[bool]
	resize          *field[Resize]
	crop            *field[string]
	quality         *field[int]
}

// deriveFields evaluates the derived-image attributes of one instance
// into img.
func (l *loader) deriveFields(img *Image, ctx *hcl.EvalContext, inst string, f deriveFields) bool {
	ok := true
	if v, null, vOK := f.operation.get(l, ctx, inst); vOK && !null {
		img.Operation = v
	} else {
		ok = ok && vOK
	}
	if v, null, vOK := f.mask.get(l, ctx, inst); vOK && !null {
		img.Mask = v
		if img.derive != nil {
			img.derive.mask = f.mask.attr.Expr.Range()
		}
	} else {
		ok = ok && vOK
	}
	if v, null, vOK := f.transparent.get(l, ctx, inst); vOK && !null {
		img.Transparent = v
		if v {
			img.Style = ""
		}
	} else {
		ok = ok && vOK
	}
	if v, null, vOK := f.resize.get(l, ctx, inst); vOK && !null {
		img.Resize = v
	} else {
		ok = ok && vOK
	}
	if v, null, vOK := f.crop.get(l, ctx, inst); vOK && !null {
		img.Crop = v
	} else {
		ok = ok && vOK
	}
	if v, null, vOK := f.quality.get(l, ctx, inst); vOK && !null {
		img.Quality = v
	} else {
		ok = ok && vOK
	}
	return ok
}

// pricedOperations are the endpoints a provider block may price:
// the edit operations and the transparent text-to-image.
var pricedOperations = [...]string{"remove-background", "upscale", "generative-fill", "ai-background", "transparent"}

// Price returns the credits the provider block sets for one request of
// operation op, and false when it sets none.
func (p Provider) Price(op string) (int, bool) {
	if i := slices.Index(pricedOperations[:], op); i >= 0 && p.Prices[i].Set {
		return p.Prices[i].Credits, true
	}
	return 0, false
}

// PriceMap returns the prices the provider block sets, by operation; nil
// for none.
func (p Provider) PriceMap() map[string]int {
	var m map[string]int
	for i, op := range pricedOperations {
		if p.Prices[i].Set {
			if m == nil {
				m = map[string]int{}
			}
			m[op] = p.Prices[i].Credits
		}
	}
	return m
}

// checkPrices accepts { OPERATION = CREDITS } for the edit endpoints.
func (l *loader) checkPrices(v cty.Value, rng hcl.Range) (out [len(pricedOperations)]Price) {
	ops := pricedOperations[:]
	for it := v.ElementIterator(); it.Next(); {
		k, val := it.Element()
		op := k.AsString()
		i := slices.Index(ops, op)
		if i < 0 {
			l.errorf(rng.Ptr(), "Invalid prices",
				fmt.Sprintf("prices sets the credits of the edit endpoints, by operation, and %q is none of them.%s Use %s.", op, didYouMean(op, ops), quotedList(ops)))
			continue
		}
		if val.IsNull() {
			continue
		}
		n, ok := wholeNumber(val)
		if !ok || n < 0 || n > 1_000_000 {
			l.errorf(rng.Ptr(), "Invalid prices",
				fmt.Sprintf("The price of %s must be a whole number of credits from 0 to 1000000, not %s.", op, numText(val)))
			continue
		}
		out[i] = Price{Credits: int(n), Set: true}
	}
	return out
}

// checkTransparent reports, for one instance whose transparent is true,
// the attributes the transparent text-to-image does not take: style, and
// candidates above 1. styleSet says style has a value in this instance.
func (l *loader) checkTransparent(name string, a deriveAttrs, img *Image, styleSet bool, inst string) bool {
	if !img.Transparent || img.Derived() {
		return true
	}
	ok := true
	if styleSet && a.style != nil {
		l.errorf(a.style.NameRange.Ptr(), "Style with transparent",
			fmt.Sprintf("image %q sets transparent = true, and the transparent (Text to PNG) endpoint takes no style: remove style.%s", name, inInstance(inst)))
		ok = false
	}
	if img.Candidates > 1 && a.candidates != nil {
		l.errorf(a.candidates.NameRange.Ptr(), "Candidates on a transparent image",
			fmt.Sprintf("image %q sets transparent = true, and candidates applies to a text-to-image block rendered by the text-to-image endpoint, not to the transparent (Text to PNG) endpoint: remove candidates, or set transparent = false.%s", name, inInstance(inst)))
		ok = false
	}
	return ok
}
