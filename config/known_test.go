package config

import (
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// TestWhollyKnown: whollyKnown answers as cty's IsWhollyKnown on values
// known and not, nested, marked, null and of every kind of collection.
func TestWhollyKnown(t *testing.T) {
	big := map[string]cty.Value{}
	for _, k := range []string{"a", "b", "c", "d", "é", "z"} {
		big[k] = cty.StringVal(k)
	}
	bigUnknown := map[string]cty.Value{}
	for k, v := range big {
		bigUnknown[k] = v
	}
	bigUnknown["c"] = cty.UnknownVal(cty.String)
	vals := []cty.Value{
		cty.StringVal("x"),
		cty.UnknownVal(cty.String),
		cty.DynamicVal,
		cty.NullVal(cty.Object(map[string]cty.Type{"a": cty.String})),
		cty.UnknownVal(cty.Object(map[string]cty.Type{"a": cty.String})),
		cty.EmptyObjectVal,
		cty.ObjectVal(big),
		cty.ObjectVal(bigUnknown),
		cty.ObjectVal(map[string]cty.Value{"o": cty.ObjectVal(bigUnknown)}),
		cty.ObjectVal(map[string]cty.Value{"o": cty.ObjectVal(big), "l": cty.ListVal([]cty.Value{cty.UnknownVal(cty.String)})}),
		cty.ObjectVal(map[string]cty.Value{"o": cty.ObjectVal(big), "l": cty.ListVal([]cty.Value{cty.StringVal("y")})}),
		cty.ObjectVal(map[string]cty.Value{"m": cty.MapVal(map[string]cty.Value{"k": cty.UnknownVal(cty.Number)})}),
		cty.ObjectVal(map[string]cty.Value{"n": cty.NullVal(cty.String), "d": cty.DynamicVal}),
		cty.ObjectVal(map[string]cty.Value{"t": cty.TupleVal([]cty.Value{cty.ObjectVal(bigUnknown)})}),
		cty.ObjectVal(big).Mark("sensitive"),
		cty.ObjectVal(bigUnknown).Mark("sensitive"),
		cty.ObjectVal(map[string]cty.Value{"s": cty.StringVal("x").Mark("m"), "u": cty.UnknownVal(cty.Bool).Mark("m")}),
		cty.ObjectVal(map[string]cty.Value{"s": cty.StringVal("x").Mark("m")}),
		cty.MapVal(big),
		cty.MapVal(bigUnknown),
		cty.SetVal([]cty.Value{cty.StringVal("a"), cty.UnknownVal(cty.String)}),
		cty.ListValEmpty(cty.String),
	}
	for i, v := range vals {
		if got, want := whollyKnown(v), v.IsWhollyKnown(); got != want {
			t.Errorf("%d: %#v: whollyKnown %v, IsWhollyKnown %v", i, v, got, want)
		}
	}
}
