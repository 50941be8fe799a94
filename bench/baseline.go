package main

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// A figure is one median a run produced, where lower is better. Timings
// are compared with the machine's speed factored out (see calibrate);
// memory is compared as it is.
type figure struct {
	Value float64 `json:"value"`
	Unit  string  `json:"unit"` // "s" or "KiB"
}

// baseline is what -save writes and -baseline reads: the figures of one
// run and the calibration measured in it.
type baseline struct {
	Note        string            `json:"note"`
	Calibration float64           `json:"calibration_seconds"`
	Figures     map[string]figure `json:"figures"`
}

// regression is how much worse than its baseline a figure may be before
// the comparison calls it a regression.
const regression = 0.20

// record notes a figure for -save and the comparison with the baseline.
func (h *harness) record(name string, value float64, unit string) {
	if h.figures == nil {
		h.figures = map[string]figure{}
	}
	h.figures[name] = figure{Value: value, Unit: unit}
}

// calibrate times a fixed piece of work of the kind the benchmarks do
// (hashing, and creating, writing and removing small files in the work
// directory), as the median of five runs. Timings of two runs, on two
// machines or on one machine under different load, are compared after
// dividing each by its run's calibration: a ratio, not an absolute time.
func (h *harness) calibrate() (float64, error) {
	dir, err := h.dir("calibrate")
	if err != nil {
		return 0, err
	}
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	var times []float64
	for r := range 5 {
		start := time.Now()
		for i := range 32 {
			buf[0] = byte(i)
			sha256.Sum256(buf)
		}
		for i := range 300 {
			p := filepath.Join(dir, fmt.Sprintf("f-%d-%d", r, i))
			if err := os.WriteFile(p, buf[:4096], 0o644); err != nil {
				return 0, fmt.Errorf("calibrate: %w", err)
			}
			if err := os.Remove(p); err != nil {
				return 0, fmt.Errorf("calibrate: %w", err)
			}
		}
		times = append(times, time.Since(start).Seconds())
	}
	return spreadOf(times).Median, nil
}

// saveBaseline writes the run's figures to path.
func (h *harness) saveBaseline(path string) error {
	b := baseline{
		Note:        "written by go run ./bench -save; figures are medians, lower is better; timings compare after dividing by calibration_seconds",
		Calibration: h.calibration,
		Figures:     h.figures,
	}
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("save the baseline: %w", err)
	}
	fmt.Fprintf(h.log, "bench: figures saved to %s\n", path)
	return nil
}

// readBaseline reads a baseline written by saveBaseline. A missing file
// is (nil, nil).
func readBaseline(path string) (*baseline, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the baseline: %w", err)
	}
	var b baseline
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("baseline %s: %w (write a new one with -save=%s)", path, err, path)
	}
	if b.Calibration <= 0 {
		return nil, fmt.Errorf("baseline %s: calibration_seconds is missing (write a new one with -save=%s)", path, path)
	}
	return &b, nil
}

// compare writes a table of every figure of this run that the baseline
// also has: the baseline's value, this run's, and the change with the
// machine's speed factored out for timings, flagging each that is more
// than regression worse. It returns how many regressed.
func compare(w io.Writer, path string, base *baseline, calibration float64, now map[string]figure) int {
	speed := calibration / base.Calibration
	fmt.Fprintf(w, "### Against the stored baseline (%s)\n\n", path)
	fmt.Fprintf(w, "This machine ran the calibration in %.3f s, the baseline's in %.3f s: timings below are compared after dividing by %.2f. A figure more than %.0f%% worse is flagged.\n\n",
		calibration, base.Calibration, speed, regression*100)
	fmt.Fprintln(w, "| figure | baseline | now | change | |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- |")
	regressed := 0
	for _, name := range slices.Sorted(maps.Keys(now)) {
		f := now[name]
		b, ok := base.Figures[name]
		if !ok || b.Value <= 0 || b.Unit != f.Unit {
			fmt.Fprintf(w, "| %s | — | %s | new | |\n", name, f.format())
			continue
		}
		change := f.Value / b.Value
		if f.Unit == "s" {
			change /= speed
		}
		flag := ""
		switch {
		case change > 1+regression:
			flag = "REGRESSED"
			regressed++
		case change < 1-regression:
			flag = "improved"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %+.0f%% | %s |\n", name, b.format(), f.format(), (change-1)*100, flag)
	}
	fmt.Fprintln(w)
	if regressed > 0 {
		fmt.Fprintf(w, "%d figure(s) regressed by more than %.0f%% against the baseline.\n\n", regressed, regression*100)
	}
	return regressed
}

func (f figure) format() string {
	if f.Unit == "KiB" {
		return mib(f.Value)
	}
	return secs(f.Value)
}
