package planner

import "testing"

func TestWordDiff(t *testing.T) {
	tests := map[string]struct {
		old, new string
		want     string
		ok       bool
	}{
		"one word":        {"a red car at night", "a red bike at night", "a red [-car-]{+bike+} at night", true},
		"added at end":    {"a red car", "a red car at night", "a red car {+at night+}", true},
		"removed at head": {"very old a red car", "a red car", "[-very old-] a red car", true},
		"long context cut": {
			"one two three four five six seven eight nine ten eleven twelve",
			"one two three four five six seven eight nine ten eleven TWELVE",
			"… eight nine ten eleven [-twelve-]{+TWELVE+}", true,
		},
		"middle run cut": {
			"x a b c d e f g h i j y",
			"X a b c d e f g h i j Y",
			"[-x-]{+X+} a b c d … g h i j [-y-]{+Y+}", true,
		},
		"whitespace only": {"a  b", "a b", "", false},
		"all new":         {"cat", "dog", "[-cat-]{+dog+}", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := wordDiff(tc.old, tc.new)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("wordDiff(%q, %q) = %q, %v; want %q, %v", tc.old, tc.new, got, ok, tc.want, tc.ok)
			}
		})
	}
}
