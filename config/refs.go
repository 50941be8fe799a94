package config

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// scope says which instance references an expression may use and names
// the expression's place for messages.
type scope struct {
	each, count bool
	place       string // "a locals block", "the provider block", ...
	// image, when place is empty, names the image block the expression
	// is in: its place is image "name".
	image string
}

// where is sc's place, as messages name it.
func (sc scope) where() string {
	if sc.place == "" && sc.image != "" {
		return "image " + strconv.Quote(sc.image)
	}
	return sc.place
}

// refs is what an expression refers to.
type refs struct {
	locals      []string // local names, possibly repeated
	each, count bool
}

// checkRefs checks every reference of expr against the declarations and
// sc, reporting undeclared names in the configuration's own terms (rather
// than HCL's generic "Unsupported attribute"). ok is false when a
// reference is wrong: the expression must then not be evaluated.
// The common constant forms of an image's attributes do not come here
// (constAttr takes them, FuzzConstAttr holds it to this way): a check
// added here for var or local references must be added there too.
func (l *loader) checkRefs(expr hcl.Expression, sc scope) (r refs, ok bool) {
	ok = true
	for _, t := range exprVariables(expr) {
		root := t.RootName()
		rootRange := t[0].SourceRange()
		switch root {
		case "var", "local", "each", "count":
		default:
			hint := didYouMean(root, []string{"var", "local", "each", "count"})
			if hint == "" {
				hint = fmt.Sprintf(" To write text, quote it: \"%s\".", root)
			}
			l.errorf(t.SourceRange().Ptr(), "Unknown reference",
				fmt.Sprintf("There is nothing named %q here. References start with var. (variables), local. (local values), each. (in an image with for_each) or count. (in an image with count).%s", root, hint))
			ok = false
			continue
		}
		name, rng, stepOK := attrStep(t)
		if !stepOK {
			l.errorf(t.SourceRange().Ptr(), "Invalid reference",
				fmt.Sprintf("%q cannot be used on its own: name one of its attributes, as in %s.", root, exampleRef(root)))
			ok = false
			continue
		}
		switch root {
		case "var":
			if _, found := l.vars[name]; !found {
				l.errorf(t.SourceRange().Ptr(), "Reference to undeclared variable",
					fmt.Sprintf("No variable named %q is declared.%s Declare it with a variable %q block, or correct the name.", name, didYouMean(name, l.varOrder), name))
				ok = false
			}
		case "local":
			if _, found := l.locals[name]; !found {
				l.errorf(t.SourceRange().Ptr(), "Reference to undeclared local value",
					fmt.Sprintf("No local value named %q is declared.%s Define it in a locals block, or correct the name.", name, didYouMean(name, l.localOrder)))
				ok = false
				continue
			}
			r.locals = append(r.locals, name)
		case "each":
			if !sc.each {
				l.errorf(rootRange.Ptr(), `Reference to "each" outside for_each`,
					fmt.Sprintf("each.key and each.value exist only inside an image block that sets for_each, and not in for_each itself; this is %s. Add for_each to the image, or remove the reference.", sc.where()))
				ok = false
				continue
			}
			if name != "key" && name != "value" {
				l.errorf(rng.Ptr(), "Invalid each attribute",
					fmt.Sprintf("each has only the attributes key and value, not %q.%s", name, didYouMean(name, []string{"key", "value"})))
				ok = false
				continue
			}
			r.each = true
		case "count":
			if !sc.count {
				l.errorf(rootRange.Ptr(), `Reference to "count" outside count`,
					fmt.Sprintf("count.index exists only inside an image block that sets count, and not in count itself; this is %s. Add count to the image, or remove the reference.", sc.where()))
				ok = false
				continue
			}
			if name != "index" {
				l.errorf(rng.Ptr(), "Invalid count attribute",
					fmt.Sprintf("count has only the attribute index, not %q.", name))
				ok = false
				continue
			}
			r.count = true
		}
	}
	return r, ok
}

// attrStep returns the attribute a traversal takes from its root: x in
// var.x or var["x"].
func attrStep(t hcl.Traversal) (string, hcl.Range, bool) {
	if len(t) < 2 {
		return "", hcl.Range{}, false
	}
	switch s := t[1].(type) {
	case hcl.TraverseAttr:
		return s.Name, s.SrcRange, true
	case hcl.TraverseIndex:
		if s.Key.IsKnown() && !s.Key.IsNull() && s.Key.Type() == cty.String {
			return s.Key.AsString(), s.SrcRange, true
		}
	}
	return "", hcl.Range{}, false
}

// exampleRef shows how a root is used.
func exampleRef(root string) string {
	switch root {
	case "var":
		return "var.theme"
	case "local":
		return "local.city"
	case "each":
		return "each.key"
	}
	return "count.index"
}

// local is one local value.
type local struct {
	name  string
	attr  *hcl.Attribute
	deps  []string
	ok    bool // references check out
	state int  // 0 unvisited, 1 evaluating, 2 done
	val   cty.Value
}

// attributesInOrder returns a body's attributes in source order, so that
// diagnostics come out in the order of the file.
func attributesInOrder(body hcl.Body) ([]*hcl.Attribute, hcl.Diagnostics) {
	attrs, diags := body.JustAttributes()
	list := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		list = append(list, a)
	}
	slices.SortFunc(list, func(a, b *hcl.Attribute) int { return a.Range.Start.Byte - b.Range.Start.Byte })
	return list, diags
}

// declareLocals records the attributes of a locals block.
func (l *loader) declareLocals(b *hcl.Block) {
	list, diags := attributesInOrder(b.Body)
	l.diags = append(l.diags, diags...)
	for _, a := range list {
		if prev, ok := l.locals[a.Name]; ok {
			l.errorf(a.NameRange.Ptr(), "Duplicate local value",
				fmt.Sprintf("A local value named %q was already defined at %s. Local names must be unique across all files of the directory: remove or rename one of them.", a.Name, where(prev.attr.NameRange)))
			continue
		}
		l.locals[a.Name] = &local{name: a.Name, attr: a}
		l.localOrder = append(l.localOrder, a.Name)
	}
}

// evalLocals checks the references of every local, then evaluates them in
// dependency order, reporting cycles. It builds l.base.
func (l *loader) evalLocals() {
	sc := scope{place: "a locals block"}
	for _, name := range l.localOrder {
		lv := l.locals[name]
		r, ok := l.checkRefs(lv.attr.Expr, sc)
		lv.deps, lv.ok = r.locals, ok
	}
	var stack []string
	for _, name := range l.localOrder {
		l.evalLocal(l.locals[name], &stack)
	}
	attrs := make(map[string]cty.Value, len(l.locals))
	for name, lv := range l.locals {
		attrs[name] = lv.val
	}
	l.localObj = cty.ObjectVal(attrs)
	l.base = &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": l.varObj, "local": l.localObj},
		Functions: l.funcs,
	}
}

// evalLocal evaluates lv after its dependencies. stack holds the locals
// being evaluated, to name a cycle's members.
func (l *loader) evalLocal(lv *local, stack *[]string) {
	switch lv.state {
	case 2:
		return
	case 1:
		i := slices.Index(*stack, lv.name)
		cycle := append(slices.Clone((*stack)[i:]), lv.name)
		path := ""
		for j, n := range cycle {
			if j > 0 {
				path += " → "
			}
			path += "local." + n
		}
		l.errorf(lv.attr.Expr.Range().Ptr(), "Cycle in local values",
			fmt.Sprintf("These local values refer to each other in a circle: %s. A value cannot depend on itself; break the cycle by computing one of them without the others.", path))
		for _, n := range cycle {
			c := l.locals[n]
			c.val, c.ok = cty.DynamicVal, false
		}
		return
	}
	lv.state = 1
	*stack = append(*stack, lv.name)
	deps := make(map[string]cty.Value, len(lv.deps))
	for _, d := range lv.deps {
		dep := l.locals[d]
		l.evalLocal(dep, stack)
		deps[d] = dep.val
	}
	*stack = (*stack)[:len(*stack)-1]
	lv.state = 2
	if !lv.ok {
		lv.val = cty.DynamicVal
		return
	}
	for _, v := range deps {
		if !whollyKnown(v) {
			lv.val = cty.DynamicVal // a dependency failed and said so
			return
		}
	}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": l.varObj, "local": cty.ObjectVal(deps)},
		Functions: l.funcs,
	}
	// Literals, constant templates and objects of them are evaluated
	// here; any other expression by HCL, which also says what is wrong.
	val, ok := constValue(lv.attr.Expr, ctx)
	var diags hcl.Diagnostics
	if !ok {
		val, diags = lv.attr.Expr.Value(ctx)
	}
	l.addDiags(diags, lv.attr.Expr.Range())
	if diags.HasErrors() {
		val = cty.DynamicVal
	}
	// A template is made by HCL, where no function cap applies: a local
	// of too much text is refused before another doubles it.
	if _, bytes := size(val); bytes > maxFuncBytes {
		l.errorf(lv.attr.Expr.Range().Ptr(), "Local value too large",
			fmt.Sprintf("local.%s holds more than %d bytes of text (16 MiB), the most one value may hold: pixform bounds the memory a configuration may use; make it smaller", lv.name, maxFuncBytes))
		val = cty.DynamicVal
	}
	lv.val = val
}
