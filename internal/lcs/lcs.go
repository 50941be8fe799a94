package lcs

// Kind is what an Op does.
type Kind byte

// Kinds of Op.
const (
	// Equal keeps a[A], which equals b[B].
	Equal Kind = '='
	// Delete removes a[A]; B is where b stands at that point.
	Delete Kind = '-'
	// Insert adds b[B]; A is where a stands at that point.
	Insert Kind = '+'
)

// Op is one step of an edit script from a to b.
type Op struct {
	Kind Kind
	A, B int // indices in a and b
}

// Diff returns an edit script that turns a into b keeping a longest common
// subsequence, in order. Where two scripts are as short, deletions come
// before insertions. Its table takes len(a)×len(b) ints: callers bound
// their inputs.
func Diff[T comparable](a, b []T) []Op {
	n, m := len(a), len(b)
	// t[i][j] is the length of the longest common subsequence of a[i:]
	// and b[j:].
	t := make([][]int, n+1)
	for i := range t {
		t[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				t[i][j] = t[i+1][j+1] + 1
			} else {
				t[i][j] = max(t[i+1][j], t[i][j+1])
			}
		}
	}
	ops := make([]Op, 0, max(n, m))
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			ops = append(ops, Op{Equal, i, j})
			i++
			j++
		case i < n && (j == m || t[i+1][j] >= t[i][j+1]):
			ops = append(ops, Op{Delete, i, j})
			i++
		default:
			ops = append(ops, Op{Insert, i, j})
			j++
		}
	}
	return ops
}
