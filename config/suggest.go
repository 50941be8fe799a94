package config

import (
	"fmt"
	"strings"

	"github.com/pixform/pixform/addrs"
)

// Suggest returns the option closest to given when it is close enough to be
// a likely typo, else "". Ties go to the first option. It is the one
// did-you-mean of pixform: configuration names, commands and addresses.
func Suggest(given string, options []string) string {
	best, bestDist := "", 3 // a distance of 3 or more is not a typo
	for _, o := range options {
		if d := levenshtein(given, o); d < bestDist {
			best, bestDist = o, d
		}
	}
	return best
}

// didYouMean returns " Did you mean "x"?" for the suggestion of given among
// options, or "".
func didYouMean(given string, options []string) string {
	if s := Suggest(given, options); s != "" {
		return fmt.Sprintf(" Did you mean %q?", s)
	}
	return ""
}

// SuggestAddr returns the address among known, or among their blocks
// (image.icon for image.icon["home"]), that given is a likely typo of, or "".
func SuggestAddr(given addrs.Addr, known []addrs.Addr) string {
	options := make([]string, 0, 2*len(known))
	seen := make(map[string]bool, 2*len(known))
	for _, a := range known {
		for _, o := range []addrs.Addr{a, a.Block()} {
			if s := o.String(); !seen[s] {
				seen[s] = true
				options = append(options, s)
			}
		}
	}
	return Suggest(given.String(), options)
}

// levenshtein returns the edit distance between a and b, by runes.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// quotedList renders options as "a", "b" and "c".
func quotedList(options []string) string {
	q := make([]string, len(options))
	for i, o := range options {
		q[i] = fmt.Sprintf("%q", o)
	}
	if len(q) <= 1 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}
