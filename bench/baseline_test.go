package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

func TestCompareFlagsRegressions(t *testing.T) {
	base := &baseline{Calibration: 1, Figures: map[string]figure{
		"plan":   {Value: 1, Unit: "s"},
		"apply":  {Value: 2, Unit: "s"},
		"rss":    {Value: 1000, Unit: "KiB"},
		"gone":   {Value: 1, Unit: "s"},
		"faster": {Value: 1, Unit: "s"},
	}}
	tests := map[string]struct {
		calibration float64
		now         map[string]figure
		want        int
		rows        []string
	}{
		"same machine, one slower": {
			calibration: 1,
			now:         map[string]figure{"plan": {1.3, "s"}, "apply": {2.2, "s"}},
			want:        1,
			rows:        []string{"| plan | 1.00 s | 1.30 s | +30% | REGRESSED |", "| apply | 2.00 s | 2.20 s | +10% |  |"},
		},
		"a machine twice as slow is no regression": {
			calibration: 2,
			now:         map[string]figure{"plan": {2.1, "s"}},
			want:        0,
			rows:        []string{"| plan | 1.00 s | 2.10 s | +5% |  |"},
		},
		"memory is not scaled by the machine's speed": {
			calibration: 2,
			now:         map[string]figure{"rss": {1300, "KiB"}},
			want:        1,
			rows:        []string{"+30% | REGRESSED |"},
		},
		"improvement and new figure": {
			calibration: 1,
			now:         map[string]figure{"faster": {0.5, "s"}, "new": {3, "s"}},
			want:        0,
			rows:        []string{"| faster | 1.00 s | 500 ms | -50% | improved |", "| new | — | 3.00 s | new | |"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			if got := compare(&out, "b.json", base, tc.calibration, tc.now); got != tc.want {
				t.Errorf("compare = %d regressions, want %d\n%s", got, tc.want, out.String())
			}
			for _, r := range tc.rows {
				if !strings.Contains(out.String(), r) {
					t.Errorf("output lacks %q:\n%s", r, out.String())
				}
			}
		})
	}
}

func TestBaselineRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "b.json")
	h := &harness{calibration: 0.5, log: &bytes.Buffer{}}
	h.record("plan", 1.5, "s")
	if err := h.saveBaseline(p); err != nil {
		t.Fatal(err)
	}
	b, err := readBaseline(p)
	if err != nil {
		t.Fatal(err)
	}
	if b.Calibration != 0.5 || b.Figures["plan"] != (figure{1.5, "s"}) {
		t.Errorf("read back %+v", b)
	}
	if b, err := readBaseline(filepath.Join(t.TempDir(), "none.json")); b != nil || err != nil {
		t.Errorf("missing baseline: %v, %v; want nil, nil", b, err)
	}
}
