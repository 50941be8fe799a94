package lcs

import (
	"strings"
	"testing"
)

// script renders ops as "=x -y +z" for comparison.
func script(a, b []string, ops []Op) string {
	var parts []string
	for _, o := range ops {
		switch o.Kind {
		case Equal:
			parts = append(parts, "="+a[o.A])
		case Delete:
			parts = append(parts, "-"+a[o.A])
		case Insert:
			parts = append(parts, "+"+b[o.B])
		}
	}
	return strings.Join(parts, " ")
}

func TestDiff(t *testing.T) {
	tests := map[string]struct {
		a, b string
		want string
	}{
		"both empty":           {"", "", ""},
		"all inserted":         {"", "x y", "+x +y"},
		"all deleted":          {"x y", "", "-x -y"},
		"same":                 {"a b c", "a b c", "=a =b =c"},
		"replacement":          {"a red fox", "a blue fox", "=a -red +blue =fox"},
		"deletion first":       {"a b", "b a", "-a =b +a"},
		"insert in the middle": {"a c", "a b c", "=a +b =c"},
		"longest kept":         {"x a b c y", "a b c", "-x =a =b =c -y"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			a, b := strings.Fields(tt.a), strings.Fields(tt.b)
			ops := Diff(a, b)
			if got := script(a, b, ops); got != tt.want {
				t.Errorf("Diff(%q, %q) = %q, want %q", tt.a, tt.b, got, tt.want)
			}
			// Indices: deletes and equals walk a in order, inserts and
			// equals walk b in order.
			i, j := 0, 0
			for _, o := range ops {
				if o.A != i || o.B != j {
					t.Fatalf("op %+v at a=%d b=%d", o, i, j)
				}
				if o.Kind != Insert {
					i++
				}
				if o.Kind != Delete {
					j++
				}
			}
			if i != len(a) || j != len(b) {
				t.Errorf("script ends at a=%d b=%d, want %d %d", i, j, len(a), len(b))
			}
		})
	}
}
