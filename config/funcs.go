package config

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"

	"github.com/hashicorp/go-cty-funcs/collection"
	"github.com/hashicorp/go-cty-funcs/crypto"
	"github.com/hashicorp/go-cty-funcs/encoding"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// Functions returns the function table of the configuration language: go-cty's
// stdlib under Terraform's names plus the deterministic hashing and encoding
// functions of go-cty-funcs. There is deliberately no uuid, timestamp or file
// function: a plan must depend only on the configuration, or it would not be
// stable. The functions whose result can be many times the size of their
// arguments are capped (cappedFuncs). Each call returns a fresh map the
// caller may extend.
func Functions() map[string]function.Function {
	fns := map[string]function.Function{
		// numeric
		"abs":      stdlib.AbsoluteFunc,
		"ceil":     stdlib.CeilFunc,
		"floor":    stdlib.FloorFunc,
		"log":      stdlib.LogFunc,
		"max":      stdlib.MaxFunc,
		"min":      stdlib.MinFunc,
		"parseint": stdlib.ParseIntFunc,
		"pow":      stdlib.PowFunc,
		"signum":   stdlib.SignumFunc,

		// strings
		"chomp":         stdlib.ChompFunc,
		"format":        stdlib.FormatFunc,
		"formatlist":    stdlib.FormatListFunc,
		"indent":        stdlib.IndentFunc,
		"join":          stdlib.JoinFunc,
		"lower":         stdlib.LowerFunc,
		"regex":         stdlib.RegexFunc,
		"regexall":      stdlib.RegexAllFunc,
		"regex_replace": stdlib.RegexReplaceFunc,
		"replace":       stdlib.ReplaceFunc,
		"split":         stdlib.SplitFunc,
		"strlen":        stdlib.StrlenFunc,
		"strrev":        stdlib.ReverseFunc,
		"substr":        stdlib.SubstrFunc,
		"title":         stdlib.TitleFunc,
		"trim":          stdlib.TrimFunc,
		"trimprefix":    stdlib.TrimPrefixFunc,
		"trimspace":     stdlib.TrimSpaceFunc,
		"trimsuffix":    stdlib.TrimSuffixFunc,
		"upper":         stdlib.UpperFunc,

		// collections
		"chunklist":       stdlib.ChunklistFunc,
		"coalesce":        collection.CoalesceFunc,
		"coalescelist":    stdlib.CoalesceListFunc,
		"compact":         stdlib.CompactFunc,
		"concat":          stdlib.ConcatFunc,
		"contains":        stdlib.ContainsFunc,
		"distinct":        stdlib.DistinctFunc,
		"element":         stdlib.ElementFunc,
		"flatten":         stdlib.FlattenFunc,
		"keys":            stdlib.KeysFunc,
		"length":          lengthFunc(),
		"lookup":          stdlib.LookupFunc,
		"merge":           stdlib.MergeFunc,
		"range":           stdlib.RangeFunc,
		"reverse":         stdlib.ReverseListFunc,
		"setintersection": stdlib.SetIntersectionFunc,
		"setproduct":      stdlib.SetProductFunc,
		"setsubtract":     stdlib.SetSubtractFunc,
		"setunion":        stdlib.SetUnionFunc,
		"slice":           stdlib.SliceFunc,
		"sort":            stdlib.SortFunc,
		"values":          stdlib.ValuesFunc,
		"zipmap":          stdlib.ZipmapFunc,

		// encoding and conversion
		"csvdecode":  stdlib.CSVDecodeFunc,
		"jsondecode": stdlib.JSONDecodeFunc,
		"jsonencode": stdlib.JSONEncodeFunc,
		"tobool":     stdlib.MakeToFunc(cty.Bool),
		"tolist":     stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"tomap":      stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
		"tonumber":   stdlib.MakeToFunc(cty.Number),
		"toset":      stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
		"tostring":   stdlib.MakeToFunc(cty.String),

		// deterministic hashing and encoding (go-cty-funcs)
		"base64decode": encoding.Base64DecodeFunc,
		"base64encode": encoding.Base64EncodeFunc,
		"base64sha256": base64HashFunc(func(b []byte) []byte { s := sha256.Sum256(b); return s[:] }),
		"base64sha512": base64HashFunc(func(b []byte) []byte { s := sha512.Sum512(b); return s[:] }),
		"md5":          crypto.Md5Func,
		"sha1":         crypto.Sha1Func,
		"sha256":       crypto.Sha256Func,
		"sha512":       crypto.Sha512Func,
		"urlencode":    encoding.URLEncodeFunc,
	}
	cappedFuncs(fns)
	return fns
}

// lengthFunc is Terraform's length: the number of characters of a string,
// or of elements of a collection.
func lengthFunc() function.Function {
	return function.New(&function.Spec{
		Description: "Returns the length of a string or collection.",
		Params: []function.Parameter{{
			Name:             "value",
			Type:             cty.DynamicPseudoType,
			AllowDynamicType: true,
		}},
		Type: func(args []cty.Value) (cty.Type, error) {
			ty := args[0].Type()
			switch {
			case ty == cty.String || ty == cty.DynamicPseudoType:
				return cty.Number, nil
			case ty.IsTupleType() || ty.IsObjectType() || ty.IsListType() || ty.IsMapType() || ty.IsSetType():
				return cty.Number, nil
			}
			return cty.Number, function.NewArgErrorf(0, "argument must be a string or a collection, not %s", ty.FriendlyName())
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			switch ty := args[0].Type(); {
			case ty == cty.String:
				return stdlib.Strlen(args[0])
			case ty.IsObjectType():
				return cty.NumberIntVal(int64(len(ty.AttributeTypes()))), nil
			}
			return stdlib.Length(args[0])
		},
	})
}

// base64HashFunc returns a function hashing its string argument with sum and
// encoding the digest in standard base64, like Terraform's base64sha256.
func base64HashFunc(sum func([]byte) []byte) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "str", Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.StringVal(base64.StdEncoding.EncodeToString(sum([]byte(args[0].AsString())))), nil
		},
	})
}
