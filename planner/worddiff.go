package planner

import (
	"strings"

	"github.com/pixform/pixform/internal/lcs"
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
	type op struct {
		kind lcs.Kind
		word string
	}
	var ops []op
	for _, o := range lcs.Diff(a, b) {
		if o.Kind == lcs.Insert {
			ops = append(ops, op{o.Kind, b[o.B]})
		} else {
			ops = append(ops, op{o.Kind, a[o.A]})
		}
	}
	changed := false
	for _, o := range ops {
		changed = changed || o.kind != lcs.Equal
	}
	if !changed {
		return "", false
	}
	var parts []string
	for k := 0; k < len(ops); {
		if ops[k].kind != lcs.Equal {
			// A change: all its removed words, then all its added ones.
			var removed, added []string
			for ; k < len(ops) && ops[k].kind != lcs.Equal; k++ {
				if ops[k].kind == lcs.Delete {
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
		for ; k < len(ops) && ops[k].kind == lcs.Equal; k++ {
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
