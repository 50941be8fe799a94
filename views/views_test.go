package views

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/executor"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/state"
)

func TestLiveStatus(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	type count struct {
		total, done, failed, retries, throttled, limit int
		lastThrot                                      time.Time
	}
	tests := map[string]struct {
		c       count
		elapsed time.Duration
		want    []string
		not     []string
	}{
		"rate and eta": {
			c:       count{total: 100, done: 25},
			elapsed: 5 * time.Second,
			want:    []string{"25/100 done", "5.0 img/s", "ETA 15s"},
		},
		"nothing done yet": {
			c:       count{total: 10},
			elapsed: time.Second,
			want:    []string{"0/10 done", "ETA –"},
		},
		"throttled just now": {
			c:       count{total: 10, done: 2, throttled: 3, limit: 4, lastThrot: start.Add(9 * time.Second)},
			elapsed: 10 * time.Second,
			want:    []string{"throttled (429 ×3), limit 4 in flight"},
		},
		"throttled long ago": {
			c:       count{total: 10, done: 2, throttled: 3, limit: 4, lastThrot: start.Add(time.Second)},
			elapsed: 10 * time.Second,
			want:    []string{"429 ×3"},
			not:     []string{"throttled ("},
		},
		"failures and retries": {
			c:       count{total: 10, done: 2, failed: 1, retries: 4},
			elapsed: time.Second,
			want:    []string{"3/10 done", "1 failed", "4 retries"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := &liveProgress{}
			p.c = &counters{total: tc.c.total, done: tc.c.done, failed: tc.c.failed, retries: tc.c.retries,
				throttled: tc.c.throttled, limit: tc.c.limit, lastThrot: tc.c.lastThrot,
				start: start, now: func() time.Time { return start.Add(tc.elapsed) }}
			got := p.status()
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("status %q lacks %q", got, w)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(got, w) {
					t.Errorf("status %q has %q", got, w)
				}
			}
		})
	}
}

func change(t *testing.T, addr string, a planner.Action) *planner.Change {
	t.Helper()
	ad, err := config.ParseAddr(addr)
	if err != nil {
		t.Fatal(err)
	}
	return &planner.Change{Addr: ad, Action: a, Path: "images/x.png"}
}

func TestLineProgress(t *testing.T) {
	var b bytes.Buffer
	p := NewLineProgress(&b, 3, time.Now)
	e := state.Entry{Path: "images/x.png", Width: 1024, Height: 576, Bytes: 2048}
	p.Completed(change(t, "image.a", planner.Create), e, executor.Generated)
	p.Failed(change(t, "image.b", planner.Replace), errors.New("boom"))
	p.Throttled(change(t, "image.c", planner.Create), executor.Throttle{Wait: time.Second, Asked: time.Second, GiveUp: 10 * time.Minute, Limit: 2})
	p.Throttled(change(t, "image.c", planner.Create), executor.Throttle{Wait: time.Second, Asked: time.Second, GiveUp: 10 * time.Minute, Limit: 2})
	p.Throttled(change(t, "image.d", planner.Create), executor.Throttle{Wait: 10 * time.Minute, Asked: 99999 * time.Second, GiveUp: 10 * time.Minute, Limit: 2})
	p.Close()
	got := b.String()
	for _, w := range []string{
		"[1/3] created image.a → images/x.png (1024×576, 2 KB)\n",
		"[2/3] failed image.b: boom\n",
		"rate limited by the API (429): slowing down to 2 in flight",
		"throttled: image.d: server asked to wait 27h46m39s; waiting 10m0s at most (a run throttled for 10m0s with no success stops)\n",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("output lacks %q:\n%s", w, got)
		}
	}
	if strings.Count(got, "throttled: image.c") != 0 {
		t.Errorf("a short wait should pass without a line:\n%s", got)
	}
	if strings.Count(got, "rate limited") != 1 {
		t.Errorf("the throttling note should be printed once:\n%s", got)
	}
}

func TestApplySummary(t *testing.T) {
	r := &executor.Result{Generated: 2, Restored: 1, Failed: 1, Requests: 4, Retries: 1, Throttled: 2, Credits: 30, Duration: 1500 * time.Millisecond}
	var b bytes.Buffer
	WriteApplySummary(&b, r, planner.Imagine, false)
	want := "Apply finished with problems. 2 generated, 1 restored from cache, 0 moved, 0 deleted, 1 failed.\n" +
		"4 requests sent (1 retry, 2 requests answered 429), 30 credits spent, in 1.5s.\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	WriteApplySummary(&b, &executor.Result{Generated: 1}, planner.Draft, false)
	if !strings.Contains(b.String(), "Rendered offline by draft: no request, no credit") {
		t.Errorf("draft summary: %s", b.String())
	}
}

func TestWriteDiagnostics(t *testing.T) {
	src := []byte("image \"a\" {\n  promt = \"x\"\n}\n")
	f, diags := hclsyntax.ParseConfig(src, "main.pix.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	d := &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Unsupported argument",
		Detail:   "An argument named \"promt\" is not expected here.",
		Subject: &hcl.Range{Filename: "main.pix.hcl",
			Start: hcl.Pos{Line: 2, Column: 3, Byte: 13}, End: hcl.Pos{Line: 2, Column: 8, Byte: 18}},
	}
	var b bytes.Buffer
	if err := WriteDiagnostics(&b, hcl.Diagnostics{d}, map[string]*hcl.File{"main.pix.hcl": f}, false); err != nil {
		t.Fatal(err)
	}
	want := "Error: Unsupported argument\n\n" +
		"  on main.pix.hcl:2:3, in image \"a\":\n" +
		"     2:   promt = \"x\"\n" +
		"          ^^^^^\n\n" +
		"An argument named \"promt\" is not expected here.\n\n"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
}

func TestWriteErrorHints(t *testing.T) {
	var b bytes.Buffer
	WriteError(&b, WithHint(errors.New("it broke"), "fix it", "or this"), false)
	want := "pixform: error: it broke\nhint: fix it\nhint: or this\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func TestCellEscapes(t *testing.T) {
	got := cell("a|b\nc")
	if strings.ContainsAny(got, "\n") || strings.Contains(got, "a|b") {
		t.Errorf("cell(%q) = %q", "a|b\nc", got)
	}
}
