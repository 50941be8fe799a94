package main

import "testing"

func TestSpreadOf(t *testing.T) {
	tests := map[string]struct {
		in   []float64
		want spread
	}{
		"empty": {nil, spread{}},
		"one":   {[]float64{3}, spread{Median: 3, Min: 3, Max: 3, N: 1}},
		"odd":   {[]float64{5, 1, 3}, spread{Median: 3, Min: 1, Max: 5, N: 3}},
		"even":  {[]float64{4, 1, 2, 8}, spread{Median: 3, Min: 1, Max: 8, N: 4}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := spreadOf(tc.in); got != tc.want {
				t.Errorf("spreadOf(%v) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}
