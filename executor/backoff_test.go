package executor

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	const ms = time.Millisecond
	tests := map[string]struct {
		n    int
		base time.Duration
		rnd  float64
		want time.Duration
	}{
		"first retry, top of range":  {n: 1, base: 500 * ms, rnd: 0.999999, want: 499999500},
		"first retry, half":          {n: 1, base: 500 * ms, rnd: 0.5, want: 250 * ms},
		"third retry doubles twice":  {n: 3, base: 500 * ms, rnd: 0.5, want: time.Second},
		"capped":                     {n: 12, base: 500 * ms, rnd: 0.5, want: 15 * time.Second},
		"huge n does not overflow":   {n: 1000, base: 250 * ms, rnd: 0.5, want: 15 * time.Second},
		"zero jitter":                {n: 4, base: 250 * ms, rnd: 0, want: 0},
		"n below one is the first":   {n: 0, base: 250 * ms, rnd: 0.5, want: 125 * ms},
		"bad random value is zeroed": {n: 2, base: 250 * ms, rnd: 1.5, want: 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := Backoff(tc.n, tc.base, BackoffCap, func() float64 { return tc.rnd })
			if got != tc.want {
				t.Errorf("Backoff(%d, %v) = %v, want %v", tc.n, tc.base, got, tc.want)
			}
			if got < 0 || got >= BackoffCap {
				t.Errorf("Backoff out of [0, cap): %v", got)
			}
		})
	}
}
