package views

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/pixform/pixform/executor"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/state"
)

// Progress is an executor.Hooks that also knows how to end: Close stops any
// background drawing and waits for it.
type Progress interface {
	executor.Hooks
	Close()
}

// counters is the shared bookkeeping of the progress views.
type counters struct {
	mu        sync.Mutex
	total     int
	done      int
	failed    int
	retries   int
	throttled int
	limit     int
	lastThrot time.Time
	throttle  executor.Throttle // the last throttle, at lastThrot
	start     time.Time
	now       func() time.Time
}

func (c *counters) snapshot() counters {
	c.mu.Lock()
	defer c.mu.Unlock()
	return counters{total: c.total, done: c.done, failed: c.failed, retries: c.retries,
		throttled: c.throttled, limit: c.limit, lastThrot: c.lastThrot, throttle: c.throttle, start: c.start}
}

// throttleNote says how a throttled request waits, for people: the
// server's Retry-After and, when it is longer, the wait pixform keeps to.
func throttleNote(t executor.Throttle) string {
	switch {
	case t.Capped():
		return fmt.Sprintf("server asked to wait %s; waiting %s at most", roundWait(t.Asked), roundWait(t.Wait))
	case t.Asked > 0:
		return fmt.Sprintf("server asked to wait %s", roundWait(t.Asked))
	}
	return fmt.Sprintf("no Retry-After; backing off %s", roundWait(t.Wait))
}

// roundWait rounds a wait for display: to the second from a minute up.
func roundWait(d time.Duration) time.Duration {
	if d >= time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}

// longWait is the wait from which the log view prints a line for a
// throttled request: shorter waits pass unnoticed in a log.
const longWait = 30 * time.Second

// lineProgress prints one plain line per finished image: for CI logs and
// any stderr that is not a terminal.
type lineProgress struct {
	executor.NilHooks
	w   io.Writer
	mu  sync.Mutex
	pal palette
	c   *counters
}

// NewLineProgress returns the progress view for logs: one line per
// finished or failed image, and a line per retry or throttle.
func NewLineProgress(w io.Writer, total int, now func() time.Time) Progress {
	return &lineProgress{w: w, c: &counters{total: total, start: now(), now: now}}
}

func (l *lineProgress) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format, args...)
}

func (l *lineProgress) Completed(c *planner.Change, e state.Entry, how executor.How) {
	l.c.mu.Lock()
	l.c.done++
	n, total := l.c.done+l.c.failed, l.c.total
	l.c.mu.Unlock()
	l.printf("[%*d/%d] %s\n", width(total), n, total, completedLine(c, e, how))
}

func (l *lineProgress) Failed(c *planner.Change, err error) {
	l.c.mu.Lock()
	l.c.failed++
	n, total := l.c.done+l.c.failed, l.c.total
	l.c.mu.Unlock()
	l.printf("[%*d/%d] %s %s: %v\n", width(total), n, total, l.pal.red("failed"), c.Addr, err)
}

func (l *lineProgress) Retrying(c *planner.Change, attempt int, err error, wait time.Duration) {
	l.c.mu.Lock()
	l.c.retries++
	l.c.mu.Unlock()
	l.printf("retrying %s in %s (attempt %d failed: %v)\n", c.Addr, wait.Round(time.Millisecond), attempt, err)
}

func (l *lineProgress) Throttled(c *planner.Change, t executor.Throttle) {
	l.c.mu.Lock()
	l.c.throttled++
	first := l.c.throttled == 1
	l.c.mu.Unlock()
	if first {
		l.printf("rate limited by the API (429): slowing down to %d in flight; throttled requests are retried and never fail an image\n", t.Limit)
	}
	if t.Capped() || t.Wait >= longWait {
		l.printf("throttled: %s: %s (a run throttled for %s with no success stops)\n", c.Addr, throttleNote(t), t.GiveUp)
	}
}

func (l *lineProgress) Warn(c *planner.Change, msg string) {
	l.printf("warning: %s: %s\n", c.Addr, msg)
}

func (l *lineProgress) Close() {}

func width(n int) int { return len(fmt.Sprint(n)) }

func completedLine(c *planner.Change, e state.Entry, how executor.How) string {
	switch how {
	case executor.Deleted:
		return fmt.Sprintf("deleted %s (%s)", c.Addr, e.Path)
	case executor.Moved:
		from := c.PriorAddr
		if c.Prior != nil && c.Prior.Path != e.Path {
			return fmt.Sprintf("moved %s: %s → %s", c.Addr, c.Prior.Path, e.Path)
		}
		return fmt.Sprintf("moved %s → %s", from, c.Addr)
	case executor.Restored:
		return fmt.Sprintf("restored %s → %s from the cache (%d×%d)", c.Addr, e.Path, e.Width, e.Height)
	}
	return fmt.Sprintf("%s %s → %s (%d×%d, %s)", verb(c), c.Addr, e.Path, e.Width, e.Height, size(e.Bytes))
}

func verb(c *planner.Change) string {
	if c.Action == planner.Replace {
		return "replaced"
	}
	return "created"
}

func size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// liveProgress redraws a status line on a terminal, with finished images
// printed above it.
type liveProgress struct {
	lineProgress
	stop chan struct{}
	wg   sync.WaitGroup
}

// NewLiveProgress returns the terminal progress view: a status line with
// done/total, rate, ETA, retries and throttling, redrawn a few times a
// second by a goroutine that Close stops and waits for.
func NewLiveProgress(w io.Writer, total int, color bool, now func() time.Time) Progress {
	p := &liveProgress{stop: make(chan struct{})}
	p.w, p.pal, p.c = w, palette{color}, &counters{total: total, start: now(), now: now}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.mu.Lock()
				fmt.Fprint(p.w, "\r\x1b[K"+p.status())
				p.mu.Unlock()
			}
		}
	}()
	return p
}

func (p *liveProgress) status() string {
	s := p.c.snapshot()
	elapsed := p.c.now().Sub(s.start)
	n := s.done + s.failed
	rate := 0.0
	if elapsed > 0 {
		rate = float64(n) / elapsed.Seconds()
	}
	eta := "–"
	if rate > 0 && s.total > n {
		eta = time.Duration(float64(s.total-n) / rate * float64(time.Second)).Round(time.Second).String()
	}
	parts := []string{fmt.Sprintf("%d/%d done", n, s.total), fmt.Sprintf("%.1f img/s", rate), "ETA " + eta}
	if s.failed > 0 {
		parts = append(parts, p.pal.red(fmt.Sprintf("%d failed", s.failed)))
	}
	if s.retries > 0 {
		parts = append(parts, fmt.Sprintf("%d retries", s.retries))
	}
	now := p.c.now()
	switch {
	case !s.lastThrot.IsZero() && s.throttle.Capped() && now.Sub(s.lastThrot) < s.throttle.Wait:
		parts = append(parts, p.pal.yellow(fmt.Sprintf("throttled (429 ×%d): %s", s.throttled, throttleNote(s.throttle))))
	case !s.lastThrot.IsZero() && now.Sub(s.lastThrot) < 5*time.Second:
		parts = append(parts, p.pal.yellow(fmt.Sprintf("throttled (429 ×%d), limit %d in flight", s.throttled, s.limit)))
	case s.throttled > 0:
		parts = append(parts, fmt.Sprintf("429 ×%d", s.throttled))
	}
	return strings.Join(parts, " · ")
}

func (p *liveProgress) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprint(p.w, "\r\x1b[K")
	fmt.Fprintf(p.w, format, args...)
	fmt.Fprint(p.w, p.status())
}

func (p *liveProgress) Completed(c *planner.Change, e state.Entry, how executor.How) {
	p.c.mu.Lock()
	p.c.done++
	p.c.mu.Unlock()
	p.printf("%s %s\n", p.pal.green("✓"), completedLine(c, e, how))
}

func (p *liveProgress) Failed(c *planner.Change, err error) {
	p.c.mu.Lock()
	p.c.failed++
	p.c.mu.Unlock()
	p.printf("%s %s: %v\n", p.pal.red("✗"), c.Addr, err)
}

func (p *liveProgress) Retrying(c *planner.Change, attempt int, err error, wait time.Duration) {
	p.c.mu.Lock()
	p.c.retries++
	p.c.mu.Unlock()
}

func (p *liveProgress) Throttled(c *planner.Change, t executor.Throttle) {
	p.c.mu.Lock()
	p.c.throttled++
	p.c.limit = t.Limit
	p.c.lastThrot = p.c.now()
	p.c.throttle = t
	p.c.mu.Unlock()
	if t.Capped() {
		// A wait this long deserves a line of its own, kept above the
		// status line.
		p.printf("%s %s: %s (a run throttled for %s with no success stops)\n", p.pal.yellow("throttled:"), c.Addr, throttleNote(t), t.GiveUp)
	}
}

func (p *liveProgress) Warn(c *planner.Change, msg string) {
	p.printf("%s %s: %s\n", p.pal.yellow("warning:"), c.Addr, msg)
}

func (p *liveProgress) Close() {
	select {
	case <-p.stop:
		return
	default:
	}
	close(p.stop)
	p.wg.Wait()
	p.mu.Lock()
	fmt.Fprint(p.w, "\r\x1b[K")
	p.mu.Unlock()
}

// jsonProgress prints apply -json events, one JSON object a line.
type jsonProgress struct {
	mu  sync.Mutex
	enc *json.Encoder
	now func() time.Time
}

// NewJSONProgress returns the apply -json view: one event a line for
// started, retried, throttled, completed, failed and warning; the summary
// event comes from WriteApplySummaryJSON.
func NewJSONProgress(w io.Writer, now func() time.Time) Progress {
	return &jsonProgress{enc: json.NewEncoder(w), now: now}
}

// Event is one apply -json line.
type Event struct {
	Type    string `json:"type"`
	Time    string `json:"time"`
	Address string `json:"address,omitempty"`
	Action  string `json:"action,omitempty"`
	How     string `json:"how,omitempty"`
	Attempt int    `json:"attempt,omitempty"`
	WaitMS  int64  `json:"wait_ms,omitempty"`
	// RetryAfterMS is the server's Retry-After on a throttled event; when
	// it is more than WaitMS, the wait was cut at the give-up (GiveUpMS:
	// how long a run may be throttled with no success before it stops).
	RetryAfterMS int64        `json:"retry_after_ms,omitempty"`
	GiveUpMS     int64        `json:"give_up_ms,omitempty"`
	Limit        int          `json:"limit,omitempty"`
	Error        string       `json:"error,omitempty"`
	Message      string       `json:"message,omitempty"`
	Entry        *state.Entry `json:"entry,omitempty"`
	Summary      *JSONResult  `json:"summary,omitempty"`
}

func (j *jsonProgress) emit(ev Event) {
	ev.Time = j.now().UTC().Format(time.RFC3339Nano)
	j.mu.Lock()
	defer j.mu.Unlock()
	j.enc.Encode(ev)
}

func (j *jsonProgress) Started(c *planner.Change, attempt int) {
	j.emit(Event{Type: "started", Address: c.Addr.String(), Action: c.Action.String(), Attempt: attempt})
}

func (j *jsonProgress) Retrying(c *planner.Change, attempt int, err error, wait time.Duration) {
	j.emit(Event{Type: "retried", Address: c.Addr.String(), Attempt: attempt, Error: err.Error(), WaitMS: wait.Milliseconds()})
}

func (j *jsonProgress) Throttled(c *planner.Change, t executor.Throttle) {
	j.emit(Event{Type: "throttled", Address: c.Addr.String(), WaitMS: t.Wait.Milliseconds(), RetryAfterMS: t.Asked.Milliseconds(),
		GiveUpMS: t.GiveUp.Milliseconds(), Limit: t.Limit, Message: "throttled: " + throttleNote(t)})
}

func (j *jsonProgress) Completed(c *planner.Change, e state.Entry, how executor.How) {
	j.emit(Event{Type: "completed", Address: c.Addr.String(), Action: c.Action.String(), How: how.String(), Entry: &e})
}

func (j *jsonProgress) Failed(c *planner.Change, err error) {
	j.emit(Event{Type: "failed", Address: c.Addr.String(), Action: c.Action.String(), Error: err.Error()})
}

func (j *jsonProgress) Warn(c *planner.Change, msg string) {
	j.emit(Event{Type: "warning", Address: c.Addr.String(), Message: msg})
}

func (j *jsonProgress) Close() {}

// Summary emits the summary event.
func (j *jsonProgress) Summary(r *executor.Result) {
	s := NewJSONResult(r)
	j.emit(Event{Type: "summary", Summary: &s})
}

// JSONResult is the summary of an apply, in apply -json's summary event.
type JSONResult struct {
	Generated  int     `json:"generated"`
	Restored   int     `json:"restored"`
	Moved      int     `json:"moved"`
	Deleted    int     `json:"deleted"`
	Failed     int     `json:"failed"`
	Skipped    int     `json:"skipped"`
	Requests   int     `json:"requests"`
	Retries    int     `json:"retries"`
	Throttled  int     `json:"throttled"`
	Credits    int     `json:"credits"`
	WallSecond float64 `json:"wall_seconds"`
	Stopped    string  `json:"stopped,omitempty"`
}

// NewJSONResult converts an executor result.
func NewJSONResult(r *executor.Result) JSONResult {
	jr := JSONResult{r.Generated, r.Restored, r.Moved, r.Deleted, r.Failed, r.Skipped, r.Requests, r.Retries, r.Throttled, r.Credits, r.Duration.Seconds(), ""}
	if r.Stopped != nil {
		jr.Stopped = r.Stopped.Error()
	}
	return jr
}

// SummaryWriter is implemented by progress views that print the summary
// themselves (apply -json).
type SummaryWriter interface {
	Summary(r *executor.Result)
}

// WriteApplySummary prints the end-of-apply summary for people; provider
// is the plan's renderer.
func WriteApplySummary(w io.Writer, r *executor.Result, provider string, color bool) {
	pal := palette{color}
	head := pal.green("Apply complete!")
	if r.Failed > 0 || r.Stopped != nil {
		head = pal.red("Apply finished with problems.")
	}
	fmt.Fprintf(w, "%s %d generated, %d restored from cache, %d moved, %d deleted, %d failed",
		head, r.Generated, r.Restored, r.Moved, r.Deleted, r.Failed)
	if r.Skipped > 0 {
		fmt.Fprintf(w, ", %d not started", r.Skipped)
	}
	if provider == planner.Draft {
		fmt.Fprintf(w, ".\nRendered offline by draft: no request, no credit, in %s.\n", r.Duration.Round(10*time.Millisecond))
		return
	}
	fmt.Fprintf(w, ".\n%s sent (%s, %s answered 429), %s spent, in %s.\n",
		plural(r.Requests, "request"), retries(r.Retries), plural(r.Throttled, "request"),
		plural(r.Credits, "credit"), r.Duration.Round(10*time.Millisecond))
}

func retries(n int) string {
	if n == 1 {
		return "1 retry"
	}
	return fmt.Sprintf("%d retries", n)
}

// WritePlanEvent prints the plan as apply -json's first event.
func WritePlanEvent(w io.Writer, p *planner.Plan) error {
	jp := NewJSONPlan(p)
	b, err := json.Marshal(struct {
		Type string    `json:"type"`
		Plan *JSONPlan `json:"plan"`
	}{"plan", &jp})
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
