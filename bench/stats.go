package main

import (
	"fmt"
	"slices"
	"time"
)

// spread is the median, min and max of repeated measurements.
type spread struct {
	Median, Min, Max float64
	N                int
}

// spreadOf summarises xs; the median of an even count is the mean of the
// middle two.
func spreadOf(xs []float64) spread {
	if len(xs) == 0 {
		return spread{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return spread{Median: m, Min: s[0], Max: s[len(s)-1], N: len(s)}
}

// format renders the spread with f, as "median (min–max)".
func (s spread) format(f func(float64) string) string {
	if s.N == 0 {
		return "—"
	}
	if s.N == 1 {
		return f(s.Median)
	}
	return fmt.Sprintf("%s (%s–%s)", f(s.Median), f(s.Min), f(s.Max))
}

// secs formats seconds.
func secs(x float64) string {
	switch {
	case x < 0.01:
		return fmt.Sprintf("%.2f ms", x*1000)
	case x < 1:
		return fmt.Sprintf("%.0f ms", x*1000)
	}
	return fmt.Sprintf("%.2f s", x)
}

// ratio formats a ratio.
func ratio(x float64) string { return fmt.Sprintf("%.2f×", x) }

// count formats a count.
func count(x float64) string { return fmt.Sprintf("%.0f", x) }

// percent formats a fraction as a percentage.
func percent(x float64) string { return fmt.Sprintf("%.1f%%", x*100) }

// mib formats kilobytes as MiB.
func mib(kb float64) string { return fmt.Sprintf("%.1f MiB", kb/1024) }

// perSec formats a rate.
func perSec(x float64) string { return fmt.Sprintf("%.0f/s", x) }

// seconds converts a duration to float seconds.
func seconds(d time.Duration) float64 { return d.Seconds() }
