package cli

import (
	"fmt"
	"strings"

	"github.com/pixform/pixform/internal/lcs"
)

// unifiedDiff renders the line changes from a to b as a unified diff with
// three lines of context. Inputs are small (configuration files), so
// lcs.Diff's quadratic table is fine.
func unifiedDiff(name string, a, b []byte) string {
	x := splitLines(string(a))
	y := splitLines(string(b))
	type op struct {
		kind byte // ' ', '-', '+'
		text string
		ai   int // line index in a (for ' ' and '-')
		bi   int // line index in b (for ' ' and '+')
	}
	var ops []op
	for _, o := range lcs.Diff(x, y) {
		switch o.Kind {
		case lcs.Equal:
			ops = append(ops, op{' ', x[o.A], o.A, o.B})
		case lcs.Delete:
			ops = append(ops, op{'-', x[o.A], o.A, o.B})
		default:
			ops = append(ops, op{'+', y[o.B], o.A, o.B})
		}
	}
	const ctx = 3
	var out strings.Builder
	fmt.Fprintf(&out, "--- a/%s\n+++ b/%s\n", name, name)
	for k := 0; k < len(ops); {
		if ops[k].kind == ' ' {
			k++
			continue
		}
		start := max(0, k-ctx)
		end := k
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run-end > 2*ctx || run == len(ops) {
				end = min(end+ctx, len(ops))
				break
			}
			end = run
		}
		aStart, bStart := ops[start].ai, ops[start].bi
		aLen, bLen := 0, 0
		for _, o := range ops[start:end] {
			if o.kind != '+' {
				aLen++
			}
			if o.kind != '-' {
				bLen++
			}
		}
		fmt.Fprintf(&out, "@@ -%d,%d +%d,%d @@\n", aStart+1, aLen, bStart+1, bLen)
		for _, o := range ops[start:end] {
			out.WriteByte(o.kind)
			out.WriteString(o.text)
			out.WriteByte('\n')
		}
		k = end
	}
	return out.String()
}

func splitLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
