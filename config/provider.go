package config

import (
	"fmt"
	"math/big"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/pixform/pixform/providers"
)

// defaultProvider returns the provider settings of a configuration without
// a provider block.
func defaultProvider() Provider {
	return Provider{
		Style:       DefaultStyle,
		Parallelism: DefaultParallelism,
		Timeout:     DefaultTimeout,
		MaxRetries:  DefaultMaxRetries,
	}
}

// providerSchema is the body of a provider "imagine" block.
func providerSchema() *hcl.BodySchema {
	return &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "style"}, {Name: "parallelism"}, {Name: "timeout"}, {Name: "max_retries"},
		{Name: "read_idle_timeout"}, {Name: "max_image_bytes"}, {Name: "max_image_pixels"},
		{Name: "prices"},
	}}
}

// declareProvider records the provider block, refusing a second one and
// any label but "imagine".
func (l *loader) declareProvider(b *hcl.Block) {
	if name := b.Labels[0]; name != providers.Imagine {
		l.errorf(&b.LabelRanges[0], "Unknown provider",
			fmt.Sprintf("There is no provider %q: the only provider block is provider %q.%s The offline draft renderer needs no block: select it with -provider=draft.",
				name, providers.Imagine, didYouMean(name, []string{providers.Imagine})))
		return
	}
	if l.providerBlock != nil {
		l.errorf(&b.DefRange, "Duplicate provider block",
			fmt.Sprintf("A provider %q block was already declared at %s. Keep one block and merge the settings into it.", providers.Imagine, where(l.providerBlock.DefRange)))
		return
	}
	l.providerBlock = b
}

// evalProvider evaluates the provider block into l.provider.
func (l *loader) evalProvider() {
	l.provider = defaultProvider()
	if l.providerBlock == nil {
		return
	}
	content, diags := l.providerBlock.Body.Content(providerSchema())
	l.diags = append(l.diags, diags...)
	sc := scope{place: "the provider block"}
	eval := func(name string, ty cty.Type) (cty.Value, *hcl.Attribute) {
		attr, ok := content.Attributes[name]
		if !ok {
			return cty.NilVal, nil
		}
		v, ok := l.evalAttr(attr, l.base, sc, ty, "")
		if !ok || v.IsNull() {
			return cty.NilVal, nil
		}
		return v, attr
	}
	if v, attr := eval("style", cty.String); attr != nil {
		if s, ok := l.checkStyle(v, attr.Expr.Range(), ""); ok {
			l.provider.Style = s
		}
	}
	if v, attr := eval("parallelism", cty.Number); attr != nil {
		n, ok := wholeNumber(v)
		if !ok || n < 1 {
			l.errorf(attr.Expr.Range().Ptr(), "Invalid parallelism",
				fmt.Sprintf("parallelism is the most requests in flight at once and must be a whole number of at least 1, not %s.", numText(v)))
		} else {
			l.provider.Parallelism = int(min(n, 1<<20))
		}
	}
	if v, attr := eval("max_retries", cty.Number); attr != nil {
		n, ok := wholeNumber(v)
		if !ok || n < 0 {
			l.errorf(attr.Expr.Range().Ptr(), "Invalid max_retries",
				fmt.Sprintf("max_retries is how often a failed request is retried and must be a whole number of at least 0, not %s.", numText(v)))
		} else {
			l.provider.MaxRetries = int(min(n, 1<<20))
		}
	}
	duration := func(name, example string) (time.Duration, bool) {
		v, attr := eval(name, cty.String)
		if attr == nil {
			return 0, false
		}
		d, err := time.ParseDuration(v.AsString())
		switch {
		case err != nil:
			l.errorf(attr.Expr.Range().Ptr(), "Invalid "+name,
				fmt.Sprintf("%s must be a duration such as %q: %q does not parse (units are ms, s, m and h).", name, example, v.AsString()))
		case d <= 0:
			l.errorf(attr.Expr.Range().Ptr(), "Invalid "+name,
				fmt.Sprintf("%s must be a positive duration such as %q, not %q.", name, example, v.AsString()))
		default:
			return d, true
		}
		return 0, false
	}
	if d, ok := duration("timeout", "120s"); ok {
		l.provider.Timeout = d
	}
	if d, ok := duration("read_idle_timeout", "30s"); ok {
		l.provider.ReadIdleTimeout = d
	}
	if v, attr := eval("max_image_bytes", cty.Number); attr != nil {
		n, ok := wholeNumber(v)
		if !ok || n < 1<<10 || n > MaxImageBytesLimit {
			l.errorf(attr.Expr.Range().Ptr(), "Invalid max_image_bytes",
				fmt.Sprintf("max_image_bytes is the largest image body accepted from the API, in bytes, and must be a whole number from 1024 to %d (1 GiB), not %s (the default is 52428800, 50 MiB).", MaxImageBytesLimit, numText(v)))
		} else {
			l.provider.MaxImageBytes = n
		}
	}
	if v, attr := eval("prices", cty.Map(cty.Number)); attr != nil {
		l.provider.Prices = l.checkPrices(v, attr.Expr.Range())
	}
	if v, attr := eval("max_image_pixels", cty.Number); attr != nil {
		n, ok := wholeNumber(v)
		if !ok || n < 1 || n > MaxImagePixelsLimit {
			l.errorf(attr.Expr.Range().Ptr(), "Invalid max_image_pixels",
				fmt.Sprintf("max_image_pixels is the largest image accepted from the API, width × height, and must be a whole number from 1 to %d (16384×16384), not %s (the default is 16777216, 4096×4096).", MaxImagePixelsLimit, numText(v)))
		} else {
			l.provider.MaxImagePixels = n
		}
	}
}

// evalAttr checks the references of attr's expression against sc,
// evaluates it in ctx and converts the result to ty. inst, when not empty,
// names the instance for messages. ok is false when the value is not
// usable; the reason has been reported, except for an unknown value, whose
// cause has been reported elsewhere.
func (l *loader) evalAttr(attr *hcl.Attribute, ctx *hcl.EvalContext, sc scope, ty cty.Type, inst string) (cty.Value, bool) {
	if _, ok := l.checkRefs(attr.Expr, sc); !ok {
		return cty.NilVal, false
	}
	return l.evalExpr(attr, ctx, ty, inst)
}

// evalExpr evaluates attr's expression in ctx and converts it to ty, like
// evalAttr without the reference check.
func (l *loader) evalExpr(attr *hcl.Attribute, ctx *hcl.EvalContext, ty cty.Type, inst string) (cty.Value, bool) {
	rng := attr.Expr.Range()
	v, diags := attr.Expr.Value(ctx)
	if inst != "" {
		for _, d := range diags {
			d.Detail = fmt.Sprintf("%s (in %s)", d.Detail, inst)
		}
	}
	l.addDiags(diags, rng)
	if diags.HasErrors() || !whollyKnown(v) {
		return cty.NilVal, false
	}
	if v.IsNull() {
		return cty.NullVal(ty), true
	}
	out, err := convert.Convert(v, ty)
	if err != nil {
		l.errorf(rng.Ptr(), "Invalid value for "+attr.Name,
			fmt.Sprintf("%s must be a %s: %s.%s", attr.Name, ty.FriendlyName(), err, inInstance(inst)))
		return cty.NilVal, false
	}
	return out, true
}

// inInstance is " (in image.x["k"])" for messages about one instance.
func inInstance(inst string) string {
	if inst == "" {
		return ""
	}
	return " (in " + inst + ")"
}

// numText renders a number as people write it: 4294967296, 1.5.
func numText(v cty.Value) string {
	bf := v.AsBigFloat()
	if bf.IsInt() {
		return bf.Text('f', 0)
	}
	return bf.Text('g', -1)
}

// wholeNumber returns v as an int64 when it is a whole number that fits.
func wholeNumber(v cty.Value) (int64, bool) {
	bf := v.AsBigFloat()
	if !bf.IsInt() {
		return 0, false
	}
	n, acc := bf.Int64()
	return n, acc == big.Exact
}
