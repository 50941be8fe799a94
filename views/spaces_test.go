package views

import (
	"strings"
	"testing"
)

func TestWriteSpaces(t *testing.T) {
	for _, n := range []int{0, 1, 31, 32, 33, 64, 65, 100} {
		var b strings.Builder
		writeSpaces(&b, n)
		if got := b.String(); got != strings.Repeat(" ", n) {
			t.Errorf("writeSpaces(%d) = %q", n, got)
		}
	}
}
