package cli

import "testing"

func TestUnifiedDiff(t *testing.T) {
	tests := map[string]struct {
		a, b, want string
	}{
		"one line changed": {
			a:    "a\nb\nc\n",
			b:    "a\nB\nc\n",
			want: "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n",
		},
		"line added at the end": {
			a:    "a\n",
			b:    "a\nb\n",
			want: "--- a/f\n+++ b/f\n@@ -1,1 +1,2 @@\n a\n+b\n",
		},
		"two hunks far apart": {
			a:    "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n",
			b:    "one\n2\n3\n4\n5\n6\n7\n8\n9\nten\n",
			want: "--- a/f\n+++ b/f\n@@ -1,4 +1,4 @@\n-1\n+one\n 2\n 3\n 4\n@@ -7,4 +7,4 @@\n 7\n 8\n 9\n-10\n+ten\n",
		},
		"identical": {a: "x\n", b: "x\n", want: "--- a/f\n+++ b/f\n"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := unifiedDiff("f", []byte(tc.a), []byte(tc.b)); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}
