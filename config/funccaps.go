package config

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// A configuration comes from anyone who can open a pull request, and
// memory is bounded per image (SECURITY.md): a function whose result can
// be many times larger than its arguments (setproduct's is the product of
// their lengths, format's holds a width written as a number, a value
// referenced many times is written out in full by jsonencode) is refused,
// before it makes anything, when the result would hold more than
// maxFuncValues values or maxFuncBytes bytes of text. The diagnostic
// names the function, the size it would make, the cap, and (HCL's range
// of the call) file:line:col.
const (
	maxFuncValues = 1_000_000
	maxFuncBytes  = 16 << 20
)

// capped wraps f, named name, so that a call whose result estimate says
// would pass a cap is refused before f runs. estimate returns the values
// and the bytes of text the result would hold at most; it may stop
// counting once either passes its cap.
func capped(name string, f function.Function, estimate func(args []cty.Value) (values, bytes int64)) function.Function {
	return function.New(&function.Spec{
		Description: f.Description(),
		Params:      f.Params(),
		VarParam:    f.VarParam(),
		// With every argument known, the call's type is its result's:
		// f.Call works it out, once (twice would cost a few per cent of
		// loading a configuration that calls these for each image).
		Type: func(args []cty.Value) (cty.Type, error) {
			for _, a := range args {
				if !a.IsKnown() {
					return f.ReturnTypeForValues(args)
				}
			}
			return cty.DynamicPseudoType, nil
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			for _, a := range args {
				if !a.IsKnown() {
					return f.Call(args) // the call makes an unknown
				}
			}
			over := ""
			switch values, bytes := estimate(args); {
			case values > maxFuncValues:
				over = overCap(values, maxFuncValues, "values", "")
			case bytes > maxFuncBytes:
				over = overCap(bytes, maxFuncBytes, "bytes of text", " (16 MiB)")
			default:
				return f.Call(args)
			}
			return cty.NilVal, fmt.Errorf("%s would make %s: pixform bounds the memory a configuration may use; make its arguments smaller", name, over)
		},
	})
}

// overCap words n units, over the cap of limit; an estimate that stopped
// counting past the cap (satLimit) says only that.
func overCap(n, limit int64, units, note string) string {
	if n >= satLimit {
		return fmt.Sprintf("more than the %d %s%s one call may make", limit, units, note)
	}
	return fmt.Sprintf("%d %s, more than the %d%s one call may make", n, units, limit, note)
}

// satLimit is where products saturate: far past either cap, never
// overflowing.
const satLimit = 1 << 50

func satAdd(a, b int64) int64 {
	if a+b > satLimit || a+b < 0 {
		return satLimit
	}
	return a + b
}

func satMul(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	if a > satLimit/b {
		return satLimit
	}
	return a * b
}

// size is the values and the bytes of text that v holds, each collection
// element counted every time it is reached (a value referenced many
// times costs each time it is written out), counted only until either
// passes its cap.
func size(v cty.Value) (values, bytes int64) {
	// A known string or number, as most arguments are: no walk.
	if v.IsKnown() && !v.IsNull() && !v.IsMarked() {
		switch v.Type() {
		case cty.String:
			return 1, int64(len(v.AsString()))
		case cty.Number:
			return 1, numberBytes(v.AsBigFloat())
		case cty.Bool:
			return 1, 0
		}
	}
	var walk func(v cty.Value)
	walk = func(v cty.Value) {
		if values > maxFuncValues || bytes > maxFuncBytes {
			return
		}
		values++
		if v.IsNull() || !v.IsKnown() {
			return
		}
		v, _ = v.Unmark()
		ty := v.Type()
		switch {
		case ty == cty.String:
			bytes = satAdd(bytes, int64(len(v.AsString())))
		case ty == cty.Number:
			bytes = satAdd(bytes, numberBytes(v.AsBigFloat()))
		case ty.IsListType() || ty.IsSetType() || ty.IsTupleType() || ty.IsMapType() || ty.IsObjectType():
			for it := v.ElementIterator(); it.Next(); {
				k, e := it.Element()
				if ty.IsMapType() || ty.IsObjectType() {
					bytes = satAdd(bytes, int64(len(k.AsString())))
				}
				walk(e)
				if values > maxFuncValues || bytes > maxFuncBytes {
					return
				}
			}
		}
	}
	walk(v)
	// Counting stopped past a cap: the rest is not known.
	if values > maxFuncValues {
		values = satLimit
	}
	if bytes > maxFuncBytes {
		bytes = satLimit
	}
	return values, bytes
}

// numberBytes is at most the digits of f written out in full (a sign,
// the digits of its integer part, a fraction in 17 digits).
func numberBytes(f *big.Float) int64 {
	exp := int64(f.MantExp(nil))
	if exp < 0 {
		exp = -exp
	}
	n := 2 + exp*30103/100000 // log10(2)
	if !f.IsInt() {
		n += 18
	}
	return n
}

// lengthOf is the number of elements of a collection v, 1 for anything
// else.
func lengthOf(v cty.Value) int64 {
	if v.IsNull() || !v.CanIterateElements() {
		return 1
	}
	return int64(v.LengthInt())
}

// isSeq reports whether v is a list, tuple or set that is not null: one
// that formatlist takes an element of for each line.
func isSeq(v cty.Value) bool {
	ty := v.Type()
	return !v.IsNull() && (ty.IsListType() || ty.IsTupleType() || ty.IsSetType())
}

// formatWidths is the sum of the widths and precisions that the verbs of
// a format string spell out (%0900000000d pads to 900 MB).
func formatWidths(f string) int64 {
	var sum int64
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		for i++; i < len(f); i++ {
			c := f[i]
			if c >= '0' && c <= '9' {
				n := int64(0)
				for ; i < len(f) && f[i] >= '0' && f[i] <= '9'; i++ {
					n = satAdd(satMul(n, 10), int64(f[i]-'0'))
				}
				sum = satAdd(sum, n)
				i--
				continue
			}
			if strings.IndexByte("#+- .[]*", c) < 0 {
				break // the verb
			}
		}
	}
	return sum
}

// cappedFuncs wraps, in fns, the functions whose result can be many times
// the size of their arguments.
func cappedFuncs(fns map[string]function.Function) {
	str := func(v cty.Value) string {
		if v.IsNull() || v.Type() != cty.String {
			return ""
		}
		v, _ = v.Unmark()
		return v.AsString()
	}
	wrap := func(name string, est func(args []cty.Value) (int64, int64)) {
		fns[name] = capped(name, fns[name], est)
	}
	// Every tuple of the product, each holding one value of each set.
	wrap("setproduct", func(args []cty.Value) (int64, int64) {
		n := int64(1)
		for _, a := range args {
			n = satMul(n, lengthOf(a))
		}
		return satMul(n, int64(len(args))+1), 0
	})
	// Its elements, each as many times as the lists reach it.
	wrap("flatten", func(args []cty.Value) (int64, int64) {
		values, _ := size(args[0]) // its strings are shared, not copied
		return values, 0
	})
	wrap("concat", func(args []cty.Value) (int64, int64) {
		var n int64
		for _, a := range args {
			n = satAdd(n, lengthOf(a))
		}
		return n, 0
	})
	wrap("jsonencode", func(args []cty.Value) (int64, int64) {
		values, bytes := size(args[0])
		return 0, satAdd(bytes, satMul(values, 8)) // quotes, commas, brackets
	})
	wrap("join", func(args []cty.Value) (int64, int64) {
		var values, bytes int64
		for _, l := range args[1:] {
			v, b := size(l)
			values, bytes = satAdd(values, v), satAdd(bytes, b)
		}
		return 0, satAdd(bytes, satMul(values, int64(len(str(args[0])))))
	})
	wrap("format", func(args []cty.Value) (int64, int64) {
		f := str(args[0])
		var bytes int64
		for _, a := range args[1:] {
			_, b := size(a)
			bytes = satAdd(bytes, b)
		}
		// Each argument, used by each verb at most (%[1]s repeats one).
		verbs := int64(strings.Count(f, "%"))
		return 0, satAdd(satAdd(int64(len(f)), formatWidths(f)), satMul(bytes, verbs))
	})
	wrap("formatlist", func(args []cty.Value) (int64, int64) {
		f := str(args[0])
		n := int64(1)
		for _, a := range args[1:] {
			if isSeq(a) {
				n = max(n, lengthOf(a))
			}
		}
		// A list gives each line one of its elements, a single value
		// gives each line itself; each used by each verb at most.
		verbs := int64(strings.Count(f, "%"))
		bytes := satMul(n, satAdd(int64(len(f)), formatWidths(f)))
		for _, a := range args[1:] {
			_, b := size(a)
			if !isSeq(a) {
				b = satMul(b, n)
			}
			bytes = satAdd(bytes, satMul(b, verbs))
		}
		return n, bytes
	})
	// Each match replaced by repl: a plain one as it is; a regular
	// expression's ($1, ${name}) with its submatches, which
	// over all the matches (they do not overlap) copy at most s once for
	// each reference. A regular expression matches at most once a byte,
	// and once more.
	replaced := func(s, repl string, matches int64, regexp bool) int64 {
		n := satAdd(int64(len(s)), satMul(matches, int64(len(repl))))
		if regexp {
			n = satAdd(n, satMul(int64(strings.Count(repl, "$")), int64(len(s))))
		}
		return n
	}
	// cty's replace is plain: a sub in slashes is no regular expression
	// (as it is in Terraform's), so it is counted as text.
	wrap("replace", func(args []cty.Value) (int64, int64) {
		s, sub, repl := str(args[0]), str(args[1]), str(args[2])
		matches := int64(len(s)) + 1 // "" is matched before every rune
		if sub != "" {
			matches = int64(strings.Count(s, sub))
		}
		return 0, replaced(s, repl, matches, false)
	})
	wrap("regex_replace", func(args []cty.Value) (int64, int64) {
		s, repl := str(args[0]), str(args[2])
		return 0, replaced(s, repl, int64(len(s))+1, true)
	})
	// indent(spaces, string): the spaces, before every line but the first.
	wrap("indent", func(args []cty.Value) (int64, int64) {
		s := str(args[1])
		spaces := int64(0)
		if !args[0].IsNull() && args[0].Type() == cty.Number {
			if bf := args[0].AsBigFloat(); bf.IsInt() {
				if i, acc := bf.Int64(); acc == big.Exact && i > 0 {
					spaces = i
				}
			}
		}
		return 0, satAdd(int64(len(s)), satMul(int64(strings.Count(s, "\n")), spaces))
	})
	// A value for each piece: each character of the string, split by "".
	wrap("split", func(args []cty.Value) (int64, int64) {
		sep, s := str(args[0]), str(args[1])
		if sep == "" {
			return int64(len(s)) + 1, 0
		}
		return int64(strings.Count(s, sep)) + 1, 0
	})
	wrap("regexall", func(args []cty.Value) (int64, int64) {
		return int64(len(str(args[1]))) + 1, 0
	})
}
