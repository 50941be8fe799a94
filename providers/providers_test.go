package providers

import "testing"

func TestKnown(t *testing.T) {
	tests := map[string]bool{Imagine: true, Draft: true, "": false, "Imagine": false, "imagine ": false, "other": false}
	for name, want := range tests {
		if got := Known(name); got != want {
			t.Errorf("Known(%q) = %v, want %v", name, got, want)
		}
	}
}
