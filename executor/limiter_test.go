package executor

import (
	"testing"

	"github.com/pixform/pixform/limiter"
)

// learningLimiter says it has not learned the kind of limit yet.
type learningLimiter struct{ *testLimiter }

func (learningLimiter) Learning() bool { return true }

func TestLearning(t *testing.T) {
	tests := map[string]struct {
		lim  Limiter
		want bool
	}{
		"a limiter still learning":       {lim: learningLimiter{newTestLimiter(1)}, want: true},
		"a limiter that does not say":    {lim: newTestLimiter(1), want: false},
		"the adaptive limiter, untested": {lim: limiter.New(4, nil), want: false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := learning(tc.lim); got != tc.want {
				t.Errorf("learning() = %v, want %v", got, tc.want)
			}
		})
	}
}
