package views

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/executor"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

func TestLiveStatus(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	type count struct {
		total, done, failed, retries, throttled, limit int
		rate                                           float64
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
		"throttled just now, paced for a rate limit": {
			c:       count{total: 10, done: 2, throttled: 3, limit: 4, rate: 9.63, lastThrot: start.Add(9 * time.Second)},
			elapsed: 10 * time.Second,
			want:    []string{"throttled (429 ×3), pacing at 9.6 requests/s"},
			not:     []string{"in flight"},
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
			p := &liveProgress{width: func() int { return 200 }}
			p.c = &counters{total: tc.c.total, done: tc.c.done, failed: tc.c.failed, retries: tc.c.retries,
				throttled: tc.c.throttled, limit: tc.c.limit, lastThrot: tc.c.lastThrot, throttle: executor.Throttle{Limit: tc.c.limit, Rate: tc.c.rate},
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

// TestLiveStatusFits: at every width the status line fits in one row
// (never wraps, so a redraw that clears one line leaves nothing behind),
// keeps the counts, and drops the ETA and details before them.
func TestLiveStatusFits(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := start.Add(20 * time.Second)
	icons := []string{`image.icon["home"]`, `image.icon["user"]`, `image.icon["settings"]`, `image.icon["notifications"]`, `image.icon["ほげ"]`}
	busy := func(c *counters) {
		c.total, c.done, c.failed, c.retries = 123, 97, 2, 4
		c.flights = map[string]flight{"image.hero": {seq: 1}}
		for i, a := range icons {
			c.flights[a] = flight{seq: i + 2}
		}
		c.flights["image.banner"] = flight{seq: 9, waiting: true}
	}
	capped := func(c *counters) {
		busy(c)
		c.throttled, c.limit, c.lastThrot = 12, 3, now.Add(-time.Second)
		c.throttle = executor.Throttle{Wait: 10 * time.Minute, Asked: 99999 * time.Second, GiveUp: 10 * time.Minute, Limit: 3}
	}
	tests := map[string]struct {
		set  func(c *counters)
		want map[int][]string // by width: texts the line must have
		not  map[int][]string // by width: texts it must not have
	}{
		"busy run": {
			set: busy,
			want: map[int][]string{
				40:  {"99/123 done", "2 failed"},
				80:  {"99/123 done", "2 failed", "rendering image.hero", "+"},
				120: {"99/123 done", "2 failed", `rendering image.hero, image.icon["home"], image.icon["user"] +3, 1 waiting`, "4 retries"},
			},
			not: map[int][]string{40: {"ETA", "img/s"}, 80: {"ETA"}},
		},
		"throttled past the give-up": {
			set: capped,
			want: map[int][]string{
				40:  {"99/123 done", "2 failed"},
				80:  {"99/123 done", "throttled", "10m0s"},
				120: {"99/123 done", "2 failed", "server asked to wait 27h46m39s; waiting 10m0s at most"},
			},
			not: map[int][]string{40: {"ETA"}, 80: {"ETA"}},
		},
		"quiet run": {
			set: func(c *counters) { c.total, c.done = 3, 1 },
			want: map[int][]string{
				40:  {"1/3 done", "ETA 40s"},
				80:  {"1/3 done", "0.1 img/s", "ETA 40s"},
				120: {"1/3 done", "0.1 img/s", "ETA 40s"},
			},
		},
		"one address longer than the terminal": {
			set: func(c *counters) {
				c.total = 1
				c.flights = map[string]flight{`image.x["` + strings.Repeat("long key ", 20) + `"]`: {seq: 1}}
			},
			want: map[int][]string{40: {"0/1 done", "1 rendering"}, 80: {"0/1 done", "1 rendering"}, 120: {"0/1 done", "1 rendering"}},
		},
	}
	for name, tc := range tests {
		for _, width := range []int{40, 80, 120} {
			t.Run(fmt.Sprintf("%s/%d", name, width), func(t *testing.T) {
				p := &liveProgress{width: func() int { return width }}
				p.c = &counters{start: start, now: func() time.Time { return now }}
				tc.set(p.c)
				got := p.status()
				if w := displayWidth(got); w >= width {
					t.Errorf("status takes %d columns of %d (it would wrap or sit in the last column): %q", w, width, got)
				}
				if strings.ContainsAny(got, "\r\n") {
					t.Errorf("status has a line break: %q", got)
				}
				for _, w := range tc.want[width] {
					if !strings.Contains(got, w) {
						t.Errorf("status %q lacks %q", got, w)
					}
				}
				for _, w := range tc.not[width] {
					if strings.Contains(got, w) {
						t.Errorf("status %q has %q", got, w)
					}
				}
			})
		}
	}
}

// TestLiveProgressRedraws: the view writes each redraw as one line, fitted
// to the width asked at that moment, and redraws on a resize; colours take
// no width.
func TestLiveProgressRedraws(t *testing.T) {
	var mu sync.Mutex
	cols := 120
	width := func() int { mu.Lock(); defer mu.Unlock(); return cols }
	resized := make(chan os.Signal, 1)
	w := &syncBuffer{}
	p := newLiveProgress(w, 50, true, time.Now, width, resized)
	for i := range 20 {
		p.Started(change(t, fmt.Sprintf(`image.icon["number-%d"]`, i), planner.Create), 1)
	}
	p.Completed(change(t, "image.a", planner.Create), state.Entry{Path: "images/a.png", Width: 4, Height: 4}, executor.Generated)
	mu.Lock()
	cols = 40
	mu.Unlock()
	resized <- os.Interrupt
	// The resize redraws before the next tick; wait for a redraw at 40.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(lastRedraw(w.String()), "1/50 done") || displayWidth(stripANSI(lastRedraw(w.String()))) >= 40 {
		if time.Now().After(deadline) {
			t.Fatalf("no redraw fitted to 40 columns; output %q", w.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.Close()
	for _, draw := range strings.Split(w.String(), "\r\x1b[K") {
		line := stripANSI(draw)
		if i := strings.LastIndexByte(line, '\n'); i >= 0 {
			line = line[i+1:] // the status line after a finished image's line
		}
		if displayWidth(line) >= 120 {
			t.Errorf("a redraw takes %d columns: %q", displayWidth(line), line)
		}
	}
	if !strings.Contains(w.String(), "✓") || !strings.Contains(w.String(), "rendering image.icon") {
		t.Errorf("output lacks the finished image or what is in flight: %q", w.String())
	}
}

// lastRedraw is the last status line drawn in out.
func lastRedraw(out string) string {
	parts := strings.Split(out, "\r\x1b[K")
	return parts[len(parts)-1]
}

func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && (s[j] < 0x40 || s[j] > 0x7e) {
				j++
			}
			i = j
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func change(t *testing.T, addr string, a planner.Action) *planner.Change {
	t.Helper()
	ad, err := addrs.Parse(addr)
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
		"rate limited by the API (429): at most 2 requests in flight;",
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

// TestLineProgressNotesWhatWasLearned checks that a run whose first 429
// came before anything got through says it does not know the limit yet,
// and then what it learned: a rate, without ever claiming one request in
// flight as a limit.
func TestLineProgressNotesWhatWasLearned(t *testing.T) {
	var b bytes.Buffer
	p := NewLineProgress(&b, 3, time.Now)
	for _, th := range []executor.Throttle{{Wait: time.Second, Limit: 1, Learning: true}, {Wait: time.Second, Limit: 4, Rate: 9.8}, {Wait: time.Second, Limit: 4, Rate: 9.5}} {
		p.Throttled(change(t, "image.a", planner.Create), th)
	}
	p.Close()
	got := b.String()
	if strings.Count(got, "rate limited") != 2 || !strings.Contains(got, "nothing came back yet") || !strings.Contains(got, "pacing at 9.8 requests/s") || strings.Contains(got, "at most") {
		t.Errorf("want a note that the limit is not known yet, then one of the rate learned, and no limit of requests in flight:\n%s", got)
	}
}

// TestLineProgressNotesWhenTheKindChanges checks that a run held to one
// request in flight at its first 429, which then learns a rate, says so.
func TestLineProgressNotesWhenTheKindChanges(t *testing.T) {
	var b bytes.Buffer
	p := NewLineProgress(&b, 3, time.Now)
	for _, th := range []executor.Throttle{{Wait: time.Second, Limit: 1}, {Wait: time.Second, Limit: 2}, {Wait: time.Second, Limit: 4, Rate: 9.8}, {Wait: time.Second, Limit: 4, Rate: 9.5}} {
		p.Throttled(change(t, "image.a", planner.Create), th)
	}
	p.Close()
	got := b.String()
	if strings.Count(got, "rate limited") != 2 || !strings.Contains(got, "at most 1 request in flight") || !strings.Contains(got, "pacing at 9.8 requests/s") {
		t.Errorf("want one note at the first 429 and one when a rate was learned:\n%s", got)
	}
}

// TestLineProgressSaysWhatWasLearned checks that the throttling note
// names the limit the run keeps to: a rate when the server limits the
// rate, requests in flight when it limits concurrency.
func TestLineProgressSaysWhatWasLearned(t *testing.T) {
	tests := map[string]struct {
		throttle executor.Throttle
		want     string
		not      string
	}{
		"rate": {
			throttle: executor.Throttle{Wait: time.Second, Limit: 1, Rate: 9.63},
			want:     "rate limited by the API (429): pacing at 9.6 requests/s; throttled requests are retried and never fail an image\n",
			not:      "in flight",
		},
		"one in flight": {
			throttle: executor.Throttle{Wait: time.Second, Limit: 1},
			want:     "rate limited by the API (429): at most 1 request in flight;",
			not:      "requests/s",
		},
		// A 429 before anything got through: the run holds one request
		// in flight, which is no concurrency limit it learned.
		"not known yet": {
			throttle: executor.Throttle{Wait: time.Second, Limit: 1, Learning: true},
			want:     "rate limited by the API (429): nothing came back yet: one request at a time until one does (whether the API limits the rate or the requests in flight is not known yet);",
			not:      "at most 1 request in flight",
		},
		"concurrency": {
			throttle: executor.Throttle{Wait: time.Second, Limit: 3},
			want:     "rate limited by the API (429): at most 3 requests in flight; throttled requests are retried and never fail an image\n",
			not:      "requests/s",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			p := NewLineProgress(&b, 3, time.Now)
			p.Throttled(change(t, "image.a", planner.Create), tc.throttle)
			p.Close()
			if got := b.String(); !strings.Contains(got, tc.want) || strings.Contains(got, tc.not) {
				t.Errorf("output = %q, want %q and no %q", got, tc.want, tc.not)
			}
		})
	}
}

func TestApplySummary(t *testing.T) {
	r := &executor.Result{Generated: 2, Restored: 1, Failed: 1, Requests: 4, Retries: 1, Throttled: 2, Credits: 30, Duration: 1500 * time.Millisecond}
	var b bytes.Buffer
	WriteApplySummary(&b, r, providers.Imagine, false)
	want := "Apply finished with problems. 2 generated, 1 restored from cache, 0 moved, 0 deleted, 1 failed.\n" +
		"4 requests sent (1 retry, 2 requests answered 429), 30 credits spent, in 1.5s.\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	// Restores from the image store are said apart from the cache's.
	for _, tc := range []struct {
		r    executor.Result
		want string
	}{
		{executor.Result{Restored: 3, RestoredFromStore: 3}, " 0 generated, 3 restored from store, 0 moved,"},
		{executor.Result{Restored: 3, RestoredFromStore: 1}, " 0 generated, 2 restored from cache, 1 restored from store, 0 moved,"},
		{executor.Result{Restored: 3}, " 0 generated, 3 restored from cache, 0 moved,"},
	} {
		b.Reset()
		WriteApplySummary(&b, &tc.r, providers.Imagine, false)
		if !strings.Contains(b.String(), tc.want) {
			t.Errorf("summary of %+v: got %q, want %q in it", tc.r, b.String(), tc.want)
		}
	}
	b.Reset()
	WriteApplySummary(&b, &executor.Result{Generated: 1}, providers.Draft, false)
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
	// What GitHub would link or notify reads the same but is not.
	tests := map[string]string{
		"@octocat and @org/team":    "@\u200boctocat and @\u200borg/team",
		"fixes #1":                  "fixes #\u200b1",
		"see https://evil.example/": "see https:\u200b//evil.example/",
		"www.evil.example":          "www\u200b.evil.example",
		"WWW.evil.example":          "WWW\u200b.evil.example",
		"see GH-5":                  "see GH\u200b-5",
		// No control or formatting character reaches a terminal or a
		// review raw: shown as its escape (whose \ Markdown escapes).
		"hi \x1b[31mRED\x1b[0m":    `hi \\x1b\[31mRED\\x1b\[0m`,
		"a\u202eb":                 `a\\u202eb`,
		"bell\a, nul\x00, del\x7f": `bell\\a, nul\\x00, del\\x7f`,
		"c1 \u009b":                `c1 \\u009b`,
		"a 👨\u200d👩\u200d👧 family": "a 👨\u200d👩\u200d👧 family", // a joiner is part of the emoji
		"bad \xff utf-8":           `bad \\ufffd utf-8`,
	}
	for in, want := range tests {
		if got := cell(in); got != want {
			t.Errorf("cell(%q) = %q, want %q", in, got, want)
		}
	}
	for _, in := range []string{"\x1b[2J", "x\u202ey", "\x9b1m"} {
		if got := code(in); strings.ContainsFunc(got, hiddenRune) {
			t.Errorf("code(%q) = %q: a raw control character", in, got)
		}
	}
}
