package planner

import (
	"strings"
)

// maxDiffWords bounds the word diff's quadratic table; longer prompts are
// shown whole, old and new.
const maxDiffWords = 400

// diffContext is how many unchanged words are kept on each side of a
// change; longer unchanged runs are cut to "…".
const diffContext = 4

// wordDiff shows how new differs from old word by word, in the style of
// git's --word-diff: removed words as [-old-], added words as {+new+}
// (a replacement as [-old-]{+new+}),
// unchanged runs longer than twice diffContext cut in the middle. ok is
// false when the prompts are too long to diff, or differ in whitespace
// only.
func wordDiff(old, new string) (string, bool) {
	a, b := strings.Fields(old), strings.Fields(new)
	if len(a) > maxDiffWords || len(b) > maxDiffWords {
		return "", false
	}
	// lcs[i][j] is the length of the longest common subsequence of a[i:]
	// and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type op struct {
		kind byte // '=', '-', '+'
		word string
	}
	var ops []op
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			ops = append(ops, op{'=', a[i]})
			i++
			j++
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, op{'-', a[i]})
			i++
		default:
			ops = append(ops, op{'+', b[j]})
			j++
		}
	}
	changed := false
	for _, o := range ops {
		changed = changed || o.kind != '='
	}
	if !changed {
		return "", false
	}
	var parts []string
	for k := 0; k < len(ops); {
		if ops[k].kind != '=' {
			// A change: all its removed words, then all its added ones.
			var removed, added []string
			for ; k < len(ops) && ops[k].kind != '='; k++ {
				if ops[k].kind == '-' {
					removed = append(removed, ops[k].word)
				} else {
					added = append(added, ops[k].word)
				}
			}
			change := ""
			if len(removed) > 0 {
				change = "[-" + strings.Join(removed, " ") + "-]"
			}
			if len(added) > 0 {
				change += "{+" + strings.Join(added, " ") + "+}"
			}
			parts = append(parts, change)
			continue
		}
		var words []string
		for ; k < len(ops) && ops[k].kind == '='; k++ {
			words = append(words, ops[k].word)
		}
		keepHead, keepTail := diffContext, diffContext
		if len(parts) == 0 {
			keepHead = 0
		}
		if k == len(ops) {
			keepTail = 0
		}
		if len(words) > keepHead+keepTail+1 {
			cut := append([]string{}, words[:keepHead]...)
			cut = append(cut, "…")
			words = append(cut, words[len(words)-keepTail:]...)
		}
		parts = append(parts, strings.Join(words, " "))
	}
	return strings.Join(parts, " "), true
}
