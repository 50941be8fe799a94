package config

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/pixform/pixform/addrs"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// variable is one declared variable "name" block.
type variable struct {
	name     string
	block    *hcl.Block
	typ      cty.Type
	defaults *typeexpr.Defaults
	typeOK   bool
	hasDef   bool
	def      cty.Value
	// set is true once a value was assigned from outside the configuration.
	set bool
	val cty.Value
}

// variableSchema is the body of a variable block.
func variableSchema() *hcl.BodySchema {
	return &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "type"}, {Name: "default"}, {Name: "description"},
	}}
}

// declareVariable records a variable block, its type and its default.
func (l *loader) declareVariable(b *hcl.Block) {
	name := b.Labels[0]
	content, diags := b.Body.Content(variableSchema())
	l.diags = append(l.diags, diags...)
	if !addrs.ValidName(name) {
		l.errorf(&b.LabelRanges[0], "Invalid variable name",
			fmt.Sprintf("%q is not a valid variable name: a name starts with a letter or underscore and holds only letters, digits, underscores and dashes.", name))
		return
	}
	if prev, ok := l.vars[name]; ok {
		l.errorf(&b.LabelRanges[0], "Duplicate variable declaration",
			fmt.Sprintf("A variable named %q was already declared at %s. Variable names must be unique across all files of the directory: remove or rename one of them.", name, where(prev.block.DefRange)))
		return
	}
	v := &variable{name: name, block: b, typ: cty.DynamicPseudoType, typeOK: true}
	if attr, ok := content.Attributes["type"]; ok {
		ty, defaults, diags := typeexpr.TypeConstraintWithDefaults(attr.Expr)
		l.addDiags(diags, attr.Expr.Range())
		if diags.HasErrors() {
			v.typeOK = false
		} else {
			v.typ, v.defaults = ty, defaults
		}
	}
	if attr, ok := content.Attributes["description"]; ok {
		val, diags := attr.Expr.Value(nil)
		l.addDiags(diags, attr.Expr.Range())
		if !diags.HasErrors() && (val.IsNull() || !val.IsKnown() || val.Type() != cty.String) {
			l.errorf(attr.Expr.Range().Ptr(), "Invalid description", "A variable's description must be a string.")
		}
	}
	if attr, ok := content.Attributes["default"]; ok {
		v.hasDef = true
		val, diags := attr.Expr.Value(nil)
		l.addDiags(diags, attr.Expr.Range())
		switch {
		case diags.HasErrors():
			v.def = cty.DynamicVal
		default:
			v.def = l.convertVar(v, val, attr.Expr.Range(), "default")
		}
	}
	l.vars[name] = v
	l.varOrder = append(l.varOrder, name)
}

// convertVar converts val to v's type, reporting a failure at rng. what
// says where the value came from ("default", "-var", ...).
func (l *loader) convertVar(v *variable, val cty.Value, rng hcl.Range, what string) cty.Value {
	if !v.typeOK {
		return cty.DynamicVal
	}
	if val.IsNull() {
		return cty.NullVal(v.typ)
	}
	if v.defaults != nil {
		val = v.defaults.Apply(val)
	}
	out, err := convert.Convert(val, v.typ)
	if err != nil {
		l.errorf(rng.Ptr(), "Invalid value for variable",
			fmt.Sprintf("The %s value of var.%s is not a valid %s: %s. Give a value of that type, or change the variable's type.", what, v.name, typeexpr.TypeString(v.typ), err))
		return cty.DynamicVal
	}
	return out
}

// assignVariables applies, in increasing precedence, PIXFORM_VAR_* variables,
// the auto-loaded variable files, -var-file files and -var flags, then
// reports required variables left without a value, and builds the var object.
func (l *loader) assignVariables(autoFiles []string, opts LoadOptions) {
	// Environment: last occurrence of a name wins, as in a shell.
	for _, kv := range opts.Environ {
		rest, ok := strings.CutPrefix(kv, EnvVarPrefix)
		if !ok {
			continue
		}
		name, raw, ok := strings.Cut(rest, "=")
		v := l.vars[name]
		if !ok || v == nil {
			continue // undeclared: the environment is shared, so no complaint
		}
		l.setRaw(v, raw, EnvVarPrefix+name)
	}
	for _, name := range autoFiles {
		l.loadVarFile(name, false)
	}
	for _, p := range opts.VarFiles {
		l.loadVarFile(p, opts.VarFilesFromPlan)
	}
	for _, raw := range opts.Vars {
		name, value, ok := strings.Cut(raw, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid -var option",
				Detail:   fmt.Sprintf("The option -var %q is not of the form NAME=VALUE. Write it as -var 'theme=neon'.", raw),
			})
			continue
		}
		v := l.vars[name]
		if v == nil {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Value for undeclared variable",
				Detail: fmt.Sprintf("The option -var sets %q, but no variable %q is declared.%s Declare it with a variable %q block, or remove the option.",
					name, name, didYouMean(name, l.varOrder), name),
			})
			continue
		}
		l.setRaw(v, value, "-var")
	}

	attrs := make(map[string]cty.Value, len(l.vars))
	for _, name := range l.varOrder {
		v := l.vars[name]
		switch {
		case v.set:
		case v.hasDef:
			v.val = v.def
		default:
			v.val = cty.DynamicVal
			l.errorf(&v.block.LabelRanges[0], "No value for required variable",
				fmt.Sprintf("The variable %q has no default and was given no value. Set it with -var '%s=...', in a *%s or -var-file file (%s = ...), or with the environment variable %s%s; or give it a default.",
					name, name, VarsSuffix, name, EnvVarPrefix, name))
		}
		attrs[name] = v.val
	}
	l.varObj = cty.ObjectVal(attrs)
}

// setRaw assigns a value given as text on the command line or in the
// environment. Like Terraform, text is taken literally for string (and
// untyped) variables and parsed as an HCL expression otherwise.
func (l *loader) setRaw(v *variable, raw, source string) {
	v.set = true
	if !v.typeOK {
		v.val = cty.DynamicVal
		return
	}
	if v.typ == cty.String || v.typ == cty.DynamicPseudoType {
		v.val = cty.StringVal(raw)
		return
	}
	filename := fmt.Sprintf("<value for var.%s>", v.name)
	diags := checkNesting([]byte(raw), filename, hcl.InitialPos, true)
	var expr hclsyntax.Expression
	if !diags.HasErrors() {
		expr, diags = hclsyntax.ParseExpression([]byte(raw), filename, hcl.InitialPos)
	}
	var val cty.Value
	if !diags.HasErrors() {
		val, diags = expr.Value(nil)
	}
	if diags.HasErrors() && v.typ.IsPrimitiveType() {
		// A number or a bool that is no expression of one (abc, 1 2, a+b)
		// is text that is not of the type, as a variable file says.
		l.setRawText(v, raw, source)
		return
	}
	for _, d := range diags {
		d.Detail = fmt.Sprintf("%s (in the value of var.%s from %s)", d.Detail, v.name, source)
	}
	if expr == nil {
		l.diags = append(l.diags, diags...)
	} else {
		l.addDiags(diags, expr.Range())
	}
	if diags.HasErrors() {
		v.val = cty.DynamicVal
		return
	}
	v.val = l.convertVar(v, val, expr.Range(), source)
}

// setRawText assigns raw, given on the command line or in the environment
// (source: "-var" or the environment variable's name), to the number or
// bool variable v as text converted to its type, reporting text that is
// not one with where it came from.
func (l *loader) setRawText(v *variable, raw, source string) {
	out, err := convert.Convert(cty.StringVal(strings.TrimSpace(raw)), v.typ)
	if err == nil {
		v.val = out
		return
	}
	from := "the -var option"
	if source != "-var" {
		from = "the environment variable " + source
	}
	typ := typeexpr.TypeString(v.typ)
	l.diags = append(l.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Invalid value for variable",
		Detail: fmt.Sprintf("The value %q of var.%s from %s is not a valid %s: %s. Give a %s, or change the variable's type.",
			raw, v.name, from, typ, err, typ),
	})
	v.val = cty.DynamicVal
}

// loadVarFile assigns the attributes of the variable file name, relative
// to l.dir or absolute, which is how diagnostics call it.
func (l *loader) loadVarFile(name string, strict bool) {
	f := l.parseFile(name, strict)
	if f == nil || f.Body == nil {
		return
	}
	list, diags := attributesInOrder(f.Body)
	l.diags = append(l.diags, diags...)
	for _, a := range list {
		v := l.vars[a.Name]
		if v == nil {
			l.diags = append(l.diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Value for undeclared variable",
				Detail: fmt.Sprintf("The file %s sets %q, but no variable %q is declared, so the value is ignored.%s Declare the variable, or remove the line.",
					name, a.Name, a.Name, didYouMean(a.Name, l.varOrder)),
				Subject: a.NameRange.Ptr(),
			})
			continue
		}
		val, diags := a.Expr.Value(nil)
		l.addDiags(diags, a.Expr.Range())
		v.set = true
		if diags.HasErrors() {
			v.val = cty.DynamicVal
			continue
		}
		v.val = l.convertVar(v, val, a.Expr.Range(), name)
	}
}
