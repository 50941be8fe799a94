package views

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/executor"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/state"
)

// The line of a rendered image is the one completedLine formats, at every
// count width and size unit.
func TestLineProgressGeneratedLine(t *testing.T) {
	for _, tc := range []struct {
		total, n int
		bytes    int64
		replace  bool
		addr     string
	}{
		{1, 1, 0, false, `image.a`},
		{10000, 7, 1023, false, `image.view["v1"]`},
		{10000, 10000, 1024, true, `image.view["v\"q"]`},
		{123, 45, 1536, false, `image.x[3]`},
		{5, 5, 1<<20 - 1, false, `image.a`},
		{5, 5, 3<<20 + 12345, true, `image.a`},
	} {
		c := &planner.Change{Addr: addrs.MustParse(tc.addr), Path: "out/a.png"}
		if tc.replace {
			c.Action = planner.Replace
		}
		e := state.Entry{Path: "out/a.png", Width: 114, Height: 64, Bytes: tc.bytes}
		var got bytes.Buffer
		p := NewLineProgress(&got, tc.total, time.Now).(*lineProgress)
		p.c.done = tc.n - 1
		p.Completed(c, e, executor.Generated)
		want := fmt.Sprintf("[%*d/%d] %s\n", len(fmt.Sprint(tc.total)), tc.n, tc.total, completedLine(c, e, executor.Generated))
		if got.String() != want {
			t.Errorf("line %q, want %q", got.String(), want)
		}
	}
}

// Lines come out in the order of their counts, however many images finish
// at once: a log reader takes "[9989/10000]" before "[9969/10000]" for a
// lost line.
func TestLineProgressCountsInOrder(t *testing.T) {
	const workers, each = 8, 500
	var out bytes.Buffer
	p := NewLineProgress(&out, workers*each, time.Now)
	c := &planner.Change{Addr: addrs.MustParse(`image.a`), Path: "out/a.png"}
	e := state.Entry{Path: "out/a.png", Width: 1, Height: 1, Bytes: 1}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				switch {
				case i%50 == 7:
					p.Failed(c, fmt.Errorf("boom"))
				case w%2 == 0:
					p.Completed(c, e, executor.Generated)
				default:
					p.Completed(c, e, executor.Restored)
				}
			}
		})
	}
	wg.Wait()
	prev := 0
	for line := range strings.Lines(out.String()) {
		var n int
		if _, err := fmt.Sscanf(strings.TrimLeft(line, "[ "), "%d/", &n); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if n != prev+1 {
			t.Fatalf("line %q follows count %d", line, prev)
		}
		prev = n
	}
	if prev != workers*each {
		t.Fatalf("last count %d, want %d", prev, workers*each)
	}
}
