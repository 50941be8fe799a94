package config

import (
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/pixform/pixform/addrs"
)

// instTemplate is a string template of an image block, such as
// "${local.city}, ${each.value}", prepared once for the block so that
// each instance joins its parts without an evaluation context: literal
// text and references to variables and locals are evaluated once; only
// each.key, each.value and count.index differ between instances.
type instTemplate struct {
	parts []tmplPart
}

// tmplPart is literal text (src = fromText) or an instance's each.key,
// each.value or count.index.
type tmplPart struct {
	src  tmplSource
	text string
}

type tmplSource uint8

const (
	fromText tmplSource = iota
	fromEachKey
	fromEachValue
	fromCountIndex
)

// prepareTemplate returns expr as an instTemplate, or nil when expr is not
// a template of literal text and references, or when a reference to a
// variable or local does not evaluate in base to a plain known string:
// such templates are evaluated by HCL for every instance, which also
// reports what is wrong. What render returns is the value HCL's
// TemplateExpr would.
func prepareTemplate(expr hcl.Expression, base *hcl.EvalContext) *instTemplate {
	te, ok := expr.(*hclsyntax.TemplateExpr)
	if !ok || len(te.Parts) == 0 {
		return nil
	}
	t := &instTemplate{parts: make([]tmplPart, 0, len(te.Parts))}
	for _, part := range te.Parts {
		var v cty.Value
		switch p := part.(type) {
		case *hclsyntax.LiteralValueExpr:
			v = p.Val
		case *hclsyntax.ScopeTraversalExpr:
			if src := instanceRef(p.Traversal); src != fromText {
				t.parts = append(t.parts, tmplPart{src: src})
				continue
			}
			root := p.Traversal.RootName()
			if root != "var" && root != "local" {
				return nil
			}
			if v = rootAttr(base, p.Traversal); v == cty.NilVal {
				var diags hcl.Diagnostics
				if v, diags = p.Value(base); len(diags) > 0 {
					return nil
				}
			}
		default:
			return nil
		}
		if !plainString(v) {
			return nil
		}
		t.parts = append(t.parts, tmplPart{text: v.AsString()})
	}
	return t
}

// instanceRef tells which instance value trav names: each.key, each.value
// or count.index, or fromText for anything else.
func instanceRef(trav hcl.Traversal) tmplSource {
	if len(trav) != 2 {
		return fromText
	}
	step, ok := trav[1].(hcl.TraverseAttr)
	if !ok {
		return fromText
	}
	switch trav.RootName() + "." + step.Name {
	case "each.key":
		return fromEachKey
	case "each.value":
		return fromEachValue
	case "count.index":
		return fromCountIndex
	}
	return fromText
}

// plainString reports whether v is a known, non-null, unmarked string.
func plainString(v cty.Value) bool {
	return v.IsKnown() && !v.IsNull() && !v.IsMarked() && v.Type() == cty.String
}

// render joins the template for one instance; false when an instance value
// it uses is not a plain string (each.value of a map of objects, say), or
// the instance has none: HCL must then evaluate it.
func (t *instTemplate) render(in *instance) (cty.Value, bool) {
	var b strings.Builder
	for _, p := range t.parts {
		switch p.src {
		case fromText:
			b.WriteString(p.text)
		case fromEachKey:
			if in.addr.Kind != addrs.StringKey {
				return cty.NilVal, false
			}
			b.WriteString(in.key)
		case fromEachValue:
			if in.addr.Kind != addrs.StringKey || !plainString(in.each) {
				return cty.NilVal, false
			}
			b.WriteString(in.each.AsString())
		case fromCountIndex:
			if in.addr.Kind != addrs.IntKey {
				return cty.NilVal, false
			}
			b.WriteString(strconv.Itoa(in.addr.Index))
		}
	}
	return cty.StringVal(b.String()), true
}

// constTemplate returns the value of expr in base when expr is a string
// template that prepareTemplate takes and that uses no instance value:
// the value HCL's TemplateExpr would evaluate, without its evaluation.
// false: HCL must evaluate it.
func constTemplate(expr hcl.Expression, base *hcl.EvalContext) (cty.Value, bool) {
	t := prepareTemplate(expr, base)
	if t == nil {
		return cty.NilVal, false
	}
	if len(t.parts) == 1 && t.parts[0].src == fromText {
		return cty.StringVal(t.parts[0].text), true
	}
	n := 0
	for _, p := range t.parts {
		if p.src != fromText {
			return cty.NilVal, false
		}
		n += len(p.text)
	}
	var b strings.Builder
	b.Grow(n)
	for _, p := range t.parts {
		b.WriteString(p.text)
	}
	return cty.StringVal(b.String()), true
}

// rootAttr returns the value of trav, a reference such as local.city, in
// base when it is one attribute of a known, unmarked object in base's
// own variables: what HCL's traversal of it gives, looked up without
// the traversal. cty.NilVal for any other: HCL must evaluate it.
func rootAttr(base *hcl.EvalContext, trav hcl.Traversal) cty.Value {
	if len(trav) != 2 || base == nil {
		return cty.NilVal
	}
	root, ok := trav[0].(hcl.TraverseRoot)
	if !ok {
		return cty.NilVal
	}
	step, ok := trav[1].(hcl.TraverseAttr)
	if !ok {
		return cty.NilVal
	}
	obj, ok := base.Variables[root.Name]
	if !ok || obj.IsMarked() || !obj.IsKnown() || obj.IsNull() || !obj.Type().IsObjectType() || !obj.Type().HasAttribute(step.Name) {
		return cty.NilVal
	}
	return obj.GetAttr(step.Name)
}

// constValue returns the value of expr in ctx when expr is made only of
// literals, constant string templates (constTemplate) and objects of
// them under literal keys, as a locals block of many values is: the value
// HCL would evaluate, without its evaluation. false: HCL must evaluate it.
func constValue(expr hcl.Expression, ctx *hcl.EvalContext) (cty.Value, bool) {
	switch e := expr.(type) {
	case *hclsyntax.LiteralValueExpr:
		return e.Val, true
	case *hclsyntax.TemplateExpr:
		return constTemplate(e, ctx)
	case *hclsyntax.ObjectConsExpr:
		vals := make(map[string]cty.Value, len(e.Items))
		for _, item := range e.Items {
			k, ok := item.KeyExpr.(*hclsyntax.ObjectConsKeyExpr)
			if !ok || k.ForceNonLiteral {
				return cty.NilVal, false
			}
			if t, ok := k.Wrapped.(*hclsyntax.ScopeTraversalExpr); ok && len(t.Traversal) > 1 {
				return cty.NilVal, false // HCL refuses it, and says why
			}
			var key string
			if name := hcl.ExprAsKeyword(k.Wrapped); name != "" {
				// As HCL's key value: a cty string, normalized (NFC), so
				// that keys equal after it are one key, the later winning.
				key = cty.NormalizeString(name)
			} else if kv, ok := constTemplate(k.Wrapped, ctx); ok {
				key = kv.AsString()
			} else {
				return cty.NilVal, false
			}
			v, ok := constValue(item.ValueExpr, ctx)
			if !ok {
				return cty.NilVal, false
			}
			vals[key] = v // a later item with the same key wins, as in HCL
		}
		return cty.ObjectVal(vals), true
	}
	return cty.NilVal, false
}

// constAttr returns the value of expr, an attribute evaluated as a value
// of type ty (String, Number or Bool) outside any instance, when expr is
// one of the common constant forms: a known literal of type ty, or, for
// String, a template of plain string literals and references var.x or
// local.x, each declared and a plain string in l.base. That is the value
// checkRefs, constTemplate and evalExpr together would find, with no
// diagnostic; false for any other expression, which they must evaluate.
func (l *loader) constAttr(expr hcl.Expression, ty cty.Type) (cty.Value, bool) {
	if ty != cty.String && ty != cty.Number && ty != cty.Bool {
		return cty.NilVal, false
	}
	switch e := expr.(type) {
	case *hclsyntax.LiteralValueExpr:
		v := e.Val
		if v.Type() != ty || !v.IsKnown() || v.IsNull() || v.IsMarked() {
			return cty.NilVal, false
		}
		return v, true
	case *hclsyntax.TemplateExpr:
		if ty != cty.String || len(e.Parts) == 0 {
			return cty.NilVal, false
		}
		if len(e.Parts) == 1 {
			s, ok := l.constPart(e.Parts[0])
			if !ok {
				return cty.NilVal, false
			}
			return cty.StringVal(s), true
		}
		var buf [8]string
		texts := buf[:0]
		n := 0
		for _, part := range e.Parts {
			s, ok := l.constPart(part)
			if !ok {
				return cty.NilVal, false
			}
			texts = append(texts, s)
			n += len(s)
		}
		var b strings.Builder
		b.Grow(n)
		for _, s := range texts {
			b.WriteString(s)
		}
		return cty.StringVal(b.String()), true
	}
	return cty.NilVal, false
}

// constPart returns the text of one part of a template as constAttr
// takes it: a plain string literal, or var.x or local.x declared and a
// plain string in l.base.
func (l *loader) constPart(part hclsyntax.Expression) (string, bool) {
	switch p := part.(type) {
	case *hclsyntax.LiteralValueExpr:
		if !plainString(p.Val) {
			return "", false
		}
		return p.Val.AsString(), true
	case *hclsyntax.ScopeTraversalExpr:
		t := p.Traversal
		if len(t) != 2 {
			return "", false
		}
		root, ok := t[0].(hcl.TraverseRoot)
		if !ok {
			return "", false
		}
		step, ok := t[1].(hcl.TraverseAttr)
		if !ok {
			return "", false
		}
		switch root.Name {
		case "var":
			if l.plainVars != nil {
				s, ok := l.plainVars[step.Name]
				return s, ok
			}
			if _, found := l.vars[step.Name]; !found {
				return "", false
			}
		case "local":
			if l.plainLocals != nil {
				s, ok := l.plainLocals[step.Name]
				return s, ok
			}
			if _, found := l.locals[step.Name]; !found {
				return "", false
			}
		default:
			return "", false
		}
		v := rootAttr(l.base, t)
		if v == cty.NilVal || !plainString(v) {
			return "", false
		}
		return v.AsString(), true
	}
	return "", false
}

// notePlainRefs fills l.plainVars and l.plainLocals from l.base, once
// it is final: what constPart finds for each var.x and local.x, looked
// up once for all image blocks.
func (l *loader) notePlainRefs() {
	note := func(root string, names []string) map[string]string {
		m := make(map[string]string, len(names))
		for _, name := range names {
			v := rootAttr(l.base, hcl.Traversal{hcl.TraverseRoot{Name: root}, hcl.TraverseAttr{Name: name}})
			if v != cty.NilVal && plainString(v) {
				m[name] = v.AsString()
			}
		}
		return m
	}
	vars := make([]string, 0, len(l.vars))
	for name := range l.vars {
		vars = append(vars, name)
	}
	locals := make([]string, 0, len(l.locals))
	for name := range l.locals {
		locals = append(locals, name)
	}
	l.plainVars, l.plainLocals = note("var", vars), note("local", locals)
}
