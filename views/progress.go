package views

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/term"

	"github.com/pixform/pixform/executor"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
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
	// flights are the images started and not yet finished, by address.
	flights map[string]flight
	seq     int
}

// flight is an image in progress: its request is in flight, or it waits
// to be retried (after a transient failure or a 429).
type flight struct {
	seq     int // start order, for a stable display
	waiting bool
}

func (c *counters) snapshot() counters {
	c.mu.Lock()
	defer c.mu.Unlock()
	fl := make(map[string]flight, len(c.flights))
	for a, f := range c.flights {
		fl[a] = f
	}
	return counters{total: c.total, done: c.done, failed: c.failed, retries: c.retries,
		throttled: c.throttled, limit: c.limit, lastThrot: c.lastThrot, throttle: c.throttle,
		start: c.start, flights: fl}
}

// fly marks addr in flight (waiting false) or waiting; land forgets it.
// The caller holds c.mu.
func (c *counters) fly(addr string, waiting bool) {
	if c.flights == nil {
		c.flights = map[string]flight{}
	}
	f, ok := c.flights[addr]
	if !ok {
		c.seq++
		f.seq = c.seq
	}
	f.waiting = waiting
	c.flights[addr] = f
}

func (c *counters) land(addr string) { delete(c.flights, addr) }

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

// keptTo says what the run keeps to after a 429: the pace it learned
// when the API limits the rate, else the requests in flight; or, when
// nothing came back before the 429, that the kind of limit is not
// known yet.
func keptTo(t executor.Throttle) string {
	if t.Learning {
		return "nothing came back yet: one request at a time until one does (whether the API limits the rate or the requests in flight is not known yet)"
	}
	if t.Rate > 0 {
		return fmt.Sprintf("pacing at %.1f requests/s", t.Rate)
	}
	if t.Limit == 1 {
		return "at most 1 request in flight"
	}
	return fmt.Sprintf("at most %d requests in flight", t.Limit)
}

// limitKind is what a throttling note says the run keeps to.
type limitKind int

const (
	limitInFlight limitKind = iota // requests in flight
	limitRate                      // a pace
	limitUnknown                   // one at a time until one gets through
)

func kindOf(t executor.Throttle) limitKind {
	switch {
	case t.Learning:
		return limitUnknown
	case t.Rate > 0:
		return limitRate
	}
	return limitInFlight
}

// limitNote is keptTo for the status line, where room is short.
func limitNote(limit int, rate float64, learning bool) string {
	if learning {
		return "one at a time until one gets through"
	}
	if rate > 0 {
		return fmt.Sprintf("pacing at %.1f requests/s", rate)
	}
	return fmt.Sprintf("limit %d in flight", limit)
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
	w    io.Writer
	mu   sync.Mutex
	pal  palette
	c    *counters
	kind limitKind // of the last throttling note; guarded by c.mu
	line []byte    // the buffer of Completed's lines; guarded by mu
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

// count counts a finished or failed image, and returns its number and
// the total. Its caller holds l.mu until the image's line is written, so
// that lines come out in the order of their numbers.
func (l *lineProgress) count(failed bool) (n, total int) {
	l.c.mu.Lock()
	defer l.c.mu.Unlock()
	if failed {
		l.c.failed++
	} else {
		l.c.done++
	}
	return l.c.done + l.c.failed, l.c.total
}

func (l *lineProgress) Completed(c *planner.Change, e state.Entry, how executor.How) {
	if how != executor.Generated {
		line := completedLine(c, e, how) // formatted before the lock
		l.mu.Lock()
		defer l.mu.Unlock()
		n, total := l.count(false)
		fmt.Fprintf(l.w, "[%*d/%d] %s\n", width(total), n, total, line)
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	n, total := l.count(false)
	// The line of every rendered image, as printf would format it, in
	// one buffer and one write: a long apply prints thousands.
	b := append(l.line[:0], '[')
	for pad := width(total) - width(n); pad > 0; pad-- {
		b = append(b, ' ')
	}
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(total), 10)
	b = append(b, "] "...)
	b = appendGenerated(b, c, e)
	b = append(b, '\n')
	l.line = b
	l.w.Write(b)
}

// appendGenerated appends completedLine's line of a rendered image.
func appendGenerated(b []byte, c *planner.Change, e state.Entry) []byte {
	b = append(b, verb(c)...)
	b = append(b, ' ')
	b = append(b, c.Addr.String()...)
	b = append(b, " → "...)
	b = append(b, e.Path...)
	b = append(b, " ("...)
	b = strconv.AppendInt(b, int64(e.Width), 10)
	b = append(b, "×"...)
	b = strconv.AppendInt(b, int64(e.Height), 10)
	b = append(b, ", "...)
	b = appendSize(b, e.Bytes)
	return append(b, ')')
}

// appendSize appends size(n).
func appendSize(b []byte, n int64) []byte {
	switch {
	case n >= 1<<20:
		return append(strconv.AppendFloat(b, float64(n)/(1<<20), 'f', 1, 64), " MB"...)
	case n >= 1<<10:
		return append(strconv.AppendFloat(b, float64(n)/(1<<10), 'f', 0, 64), " KB"...)
	}
	return append(strconv.AppendInt(b, n, 10), " B"...)
}

func (l *lineProgress) Failed(c *planner.Change, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, total := l.count(true)
	fmt.Fprintf(l.w, "[%*d/%d] %s %s: %v\n", width(total), n, total, l.pal.red("failed"), c.Addr, err)
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
	// Noted at the first 429, and again when the run learns what kind
	// of limit it is, or that it is of the other kind (a rate, not
	// requests in flight).
	kind := kindOf(t)
	note := l.c.throttled == 1 || kind != l.kind
	l.kind = kind
	l.c.mu.Unlock()
	if note {
		l.printf("rate limited by the API (429): %s; throttled requests are retried and never fail an image\n", keptTo(t))
	}
	if t.Capped() || t.Wait >= longWait {
		l.printf("throttled: %s: %s (a run throttled for %s with no success stops)\n", c.Addr, throttleNote(t), t.GiveUp)
	}
}

func (l *lineProgress) Warn(c *planner.Change, msg string) {
	l.printf("warning: %s: %s\n", c.Addr, msg)
}

func (l *lineProgress) Close() {}

func width(n int) int {
	var digits [20]byte
	return len(strconv.AppendInt(digits[:0], int64(n), 10))
}

func completedLine(c *planner.Change, e state.Entry, how executor.How) string {
	switch how {
	case executor.Deleted:
		return fmt.Sprintf("deleted %s (%s)", c.Addr, e.Path)
	case executor.KeptFile:
		return keptLine(c, e)
	case executor.Moved:
		from := c.PriorAddr
		if c.Prior != nil && c.Prior.Path != e.Path {
			return fmt.Sprintf("moved %s: %s → %s", c.Addr, c.Prior.Path, e.Path)
		}
		return fmt.Sprintf("moved %s → %s", from, c.Addr)
	case executor.Restored:
		if c.FromStore {
			return fmt.Sprintf("restored %s → %s from the store (%d×%d)", c.Addr, e.Path, e.Width, e.Height)
		}
		return fmt.Sprintf("restored %s → %s from the cache (%d×%d)", c.Addr, e.Path, e.Width, e.Height)
	}
	return fmt.Sprintf("%s %s → %s (%d×%d, %s)", verb(c), c.Addr, e.Path, e.Width, e.Height, size(e.Bytes))
}

// keptLine says that c's entry left the lockfile and its file stayed,
// because the user changed it since it was recorded.
func keptLine(c *planner.Change, e state.Entry) string {
	return fmt.Sprintf("%s left the lockfile; kept %s: it changed since it was recorded (delete it yourself if you no longer need it)", c.Addr, e.Path)
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
// printed above it. The status line is fitted to the terminal's width, so
// that it never wraps: a redraw clears one line only.
type liveProgress struct {
	lineProgress
	width func() int
	stop  chan struct{}
	wg    sync.WaitGroup
}

// defaultWidth is the width of a terminal whose size is unknown.
const defaultWidth = 80

// NewLiveProgress returns the terminal progress view: a status line with
// done/total, what is in flight, throttling, retries, rate and ETA, fitted
// to the terminal's width, redrawn a few times a second and at once when
// the terminal is resized, by a goroutine that Close stops and waits for.
// When w is a terminal, its width is asked at each redraw; else it is 80.
func NewLiveProgress(w io.Writer, total int, color bool, now func() time.Time) Progress {
	width := func() int { return defaultWidth }
	if f, ok := w.(interface{ Fd() uintptr }); ok {
		width = func() int {
			if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 0 {
				return cols
			}
			return defaultWidth
		}
	}
	resized, stopResized := notifyResize()
	p := newLiveProgress(w, total, color, now, width, resized)
	p.wg.Go(func() {
		<-p.stop
		stopResized()
	})
	return p
}

// newLiveProgress is NewLiveProgress with the terminal's width and resize
// events injected: width is asked at each redraw, and a receive on
// resized redraws at once.
func newLiveProgress(w io.Writer, total int, color bool, now func() time.Time, width func() int, resized <-chan os.Signal) *liveProgress {
	p := &liveProgress{stop: make(chan struct{}), width: width}
	p.w, p.pal, p.c = w, palette{color}, &counters{total: total, start: now(), now: now}
	p.wg.Go(func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
			case <-resized:
			}
			p.mu.Lock()
			fmt.Fprint(p.w, "\r\x1b[K"+p.status())
			p.mu.Unlock()
		}
	})
	return p
}

// segment is one part of the status line: its texts from the fullest to
// the shortest ("" drops it), and its colour.
type segment struct {
	alts  []string
	color func(string) string
}

// status is the status line, fitted to the terminal's width.
func (p *liveProgress) status() string {
	s := p.c.snapshot()
	now := p.c.now()
	elapsed := now.Sub(s.start)
	n := s.done + s.failed
	rate := 0.0
	if elapsed > 0 {
		rate = float64(n) / elapsed.Seconds()
	}
	eta := "–"
	if rate > 0 && s.total > n {
		eta = time.Duration(float64(s.total-n) / rate * float64(time.Second)).Round(time.Second).String()
	}
	plain := func(x string) string { return x }
	// Segments in display order; fitOrder below says which give way first.
	const (
		segDone = iota
		segFailed
		segFlight
		segThrottle
		segRetries
		segRate
		segETA
		nSeg
	)
	segs := make([]segment, nSeg)
	segs[segDone] = segment{[]string{fmt.Sprintf("%d/%d done", n, s.total)}, plain}
	if s.failed > 0 {
		segs[segFailed] = segment{[]string{fmt.Sprintf("%d failed", s.failed)}, p.pal.red}
	}
	segs[segFlight] = segment{flightAlts(s.flights), plain}
	if s.throttled > 0 {
		t := s.throttle
		active := now.Sub(s.lastThrot) < max(5*time.Second, t.Wait)
		short := fmt.Sprintf("429 ×%d", s.throttled)
		switch {
		case active && t.Capped():
			left := s.lastThrot.Add(t.Wait).Sub(now).Round(time.Second)
			segs[segThrottle] = segment{[]string{
				fmt.Sprintf("throttled (429 ×%d): %s (%s left)", s.throttled, throttleNote(t), left),
				fmt.Sprintf("throttled (429 ×%d): %s", s.throttled, throttleNote(t)),
				"throttled: " + throttleNote(t),
				fmt.Sprintf("throttled: waiting %s at most", roundWait(t.Wait)),
				short,
			}, p.pal.yellow}
		case active:
			segs[segThrottle] = segment{[]string{
				fmt.Sprintf("throttled (429 ×%d), %s", s.throttled, limitNote(s.limit, t.Rate, t.Learning)),
				fmt.Sprintf("throttled (429 ×%d)", s.throttled),
				short,
			}, p.pal.yellow}
		default:
			segs[segThrottle] = segment{[]string{short}, plain}
		}
	}
	if s.retries > 0 {
		segs[segRetries] = segment{[]string{fmt.Sprintf("%d retries", s.retries)}, plain}
	}
	segs[segRate] = segment{[]string{fmt.Sprintf("%.1f img/s", rate)}, plain}
	segs[segETA] = segment{[]string{"ETA " + eta}, plain}
	for i := range segs {
		if segs[i].alts == nil {
			segs[i].alts = []string{""}
		}
		if i != segDone && segs[i].alts[len(segs[i].alts)-1] != "" {
			segs[i].alts = append(segs[i].alts, "")
		}
	}
	// Keep the counts; let the ETA and the details go first, and shorten
	// what is in flight and the throttling before dropping either.
	steps := []fitStep{
		{segETA, 0}, {segRate, 0}, {segRetries, 0},
		{segFlight, 1}, {segThrottle, 2}, {segFlight, 0}, {segThrottle, 0}, {segFailed, 0},
	}
	return fitStatus(segs, steps, p.width()-1)
}

// flightAlts describes the images in progress, from the fullest text to
// the shortest: "rendering image.a, image.b +3, 2 waiting", fewer names,
// then only counts.
func flightAlts(flights map[string]flight) []string {
	var rendering []string
	waiting := 0
	for a, f := range flights {
		if f.waiting {
			waiting++
			continue
		}
		rendering = append(rendering, a)
	}
	if len(rendering) == 0 && waiting == 0 {
		return []string{""}
	}
	sort.Slice(rendering, func(i, j int) bool { return flights[rendering[i]].seq < flights[rendering[j]].seq })
	tail := ""
	if waiting > 0 {
		tail = fmt.Sprintf(", %d waiting", waiting)
	}
	var alts []string
	for k := min(len(rendering), 3); k >= 1; k-- {
		text := "rendering " + strings.Join(rendering[:k], ", ")
		if more := len(rendering) - k; more > 0 {
			text += fmt.Sprintf(" +%d", more)
		}
		alts = append(alts, text+tail)
	}
	switch {
	case len(rendering) > 0 && waiting > 0:
		alts = append(alts, fmt.Sprintf("%d rendering, %d waiting", len(rendering), waiting), fmt.Sprintf("%d in flight", len(rendering)+waiting))
	case len(rendering) > 0:
		alts = append(alts, fmt.Sprintf("%d rendering", len(rendering)))
	default:
		alts = append(alts, fmt.Sprintf("%d waiting", waiting))
	}
	return alts
}

// statusSep separates the segments of the status line.
const statusSep = " · "

// fitStep shortens segment seg, through its alternatives but the last
// keep ones.
type fitStep struct{ seg, keep int }

// fitStatus joins the segments' current texts, shortening them step by
// step until the line is at most width columns; a line still too long is
// cut. Colours are added after fitting, so escapes take no width.
func fitStatus(segs []segment, steps []fitStep, width int) string {
	width = max(width, 1)
	pick := make([]int, len(segs))
	line := func(colored bool) string {
		var parts []string
		for i, sg := range segs {
			if t := sg.alts[pick[i]]; t != "" {
				if colored {
					t = sg.color(t)
				}
				parts = append(parts, t)
			}
		}
		return strings.Join(parts, statusSep)
	}
	for _, st := range steps {
		i := st.seg
		for displayWidth(line(false)) > width && pick[i] < len(segs[i].alts)-1-st.keep {
			pick[i]++
		}
	}
	if displayWidth(line(false)) > width {
		return truncateWidth(line(false), width)
	}
	return line(true)
}

// displayWidth is the number of terminal columns s takes: wide East Asian
// characters and emoji take two, combining marks and controls none.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

func runeWidth(r rune) int {
	switch {
	case r < 0x20 || r == 0x7f || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r) || r == 0x200b || r == 0x200d:
		return 0
	case r >= 0x1100 && r <= 0x115f, r >= 0x2e80 && r <= 0xa4cf && r != 0x303f,
		r >= 0xac00 && r <= 0xd7a3, r >= 0xf900 && r <= 0xfaff, r >= 0xfe30 && r <= 0xfe4f,
		r >= 0xff00 && r <= 0xff60, r >= 0xffe0 && r <= 0xffe6,
		r >= 0x1f300 && r <= 0x1f64f, r >= 0x1f900 && r <= 0x1f9ff, r >= 0x20000 && r <= 0x3fffd:
		return 2
	}
	return 1
}

// truncateWidth cuts s to at most width columns, ending it with "…".
func truncateWidth(s string, width int) string {
	if displayWidth(s) <= width {
		return s
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		w := runeWidth(r)
		if n+w > width-1 {
			break
		}
		b.WriteRune(r)
		n += w
	}
	b.WriteString("…")
	return b.String()
}

func (p *liveProgress) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprint(p.w, "\r\x1b[K")
	fmt.Fprintf(p.w, format, args...)
	fmt.Fprint(p.w, p.status())
}

func (p *liveProgress) Started(c *planner.Change, attempt int) {
	p.c.mu.Lock()
	p.c.fly(c.Addr.String(), false)
	p.c.mu.Unlock()
}

func (p *liveProgress) Completed(c *planner.Change, e state.Entry, how executor.How) {
	p.c.mu.Lock()
	p.c.done++
	p.c.land(c.Addr.String())
	p.c.mu.Unlock()
	p.printf("%s %s\n", p.pal.green("✓"), completedLine(c, e, how))
}

func (p *liveProgress) Failed(c *planner.Change, err error) {
	p.c.mu.Lock()
	p.c.failed++
	p.c.land(c.Addr.String())
	p.c.mu.Unlock()
	p.printf("%s %s: %v\n", p.pal.red("✗"), c.Addr, err)
}

func (p *liveProgress) Retrying(c *planner.Change, attempt int, err error, wait time.Duration) {
	p.c.mu.Lock()
	p.c.retries++
	p.c.fly(c.Addr.String(), true)
	p.c.mu.Unlock()
}

func (p *liveProgress) Throttled(c *planner.Change, t executor.Throttle) {
	p.c.mu.Lock()
	p.c.throttled++
	p.c.limit = t.Limit
	p.c.lastThrot = p.c.now()
	p.c.throttle = t
	p.c.fly(c.Addr.String(), true)
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
	ev := Event{Type: "completed", Address: c.Addr.String(), Action: c.Action.String(), How: how.String(), Entry: &e}
	if how == executor.KeptFile {
		ev.Message = keptLine(c, e)
	}
	j.emit(ev)
}

func (j *jsonProgress) Failed(c *planner.Change, err error) {
	j.emit(Event{Type: "failed", Address: c.Addr.String(), Action: c.Action.String(), Error: err.Error()})
}

func (j *jsonProgress) Warn(c *planner.Change, msg string) {
	j.emit(Event{Type: "warning", Address: c.Addr.String(), Message: msg})
}

// Warning emits the warning event of a warning that no one change
// carries (no address).
func (j *jsonProgress) Warning(msg string) {
	j.emit(Event{Type: "warning", Message: msg})
}

func (j *jsonProgress) Close() {}

// Summary emits the summary event.
func (j *jsonProgress) Summary(r *executor.Result) {
	s := NewJSONResult(r)
	j.emit(Event{Type: "summary", Summary: &s})
}

// JSONResult is the summary of an apply, in apply -json's summary event.
type JSONResult struct {
	Generated int `json:"generated"`
	Restored  int `json:"restored"`
	// RestoredFromStore counts those of Restored that came from the image
	// store; the rest came from the local content cache.
	RestoredFromStore int `json:"restored_from_store"`
	Moved             int `json:"moved"`
	Deleted           int `json:"deleted"`
	// Kept counts the deletes whose file stayed, because the user changed
	// it since it was recorded: their entries left the lockfile.
	Kept       int     `json:"kept,omitempty"`
	Failed     int     `json:"failed"`
	Skipped    int     `json:"skipped"`
	Requests   int     `json:"requests"`
	Retries    int     `json:"retries"`
	Throttled  int     `json:"throttled"`
	Credits    int     `json:"credits"`
	WallSecond float64 `json:"wall_seconds"`
	Stopped    string  `json:"stopped,omitempty"`
	// Abandoned counts those of Skipped whose request was in flight when
	// a second Ctrl-C cancelled it.
	Abandoned int `json:"abandoned,omitempty"`
}

// NewJSONResult converts an executor result.
func NewJSONResult(r *executor.Result) JSONResult {
	jr := JSONResult{
		Generated: r.Generated, Restored: r.Restored, RestoredFromStore: r.RestoredFromStore, Moved: r.Moved, Deleted: r.Deleted,
		Kept: r.Kept, Failed: r.Failed, Skipped: r.Skipped, Requests: r.Requests, Retries: r.Retries, Throttled: r.Throttled, Credits: r.Credits,
		WallSecond: r.Duration.Seconds(), Abandoned: r.Abandoned,
	}
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
	fmt.Fprintf(w, "%s %d generated, %s, %d moved, %d deleted, ", head, r.Generated, restoredCounts(r), r.Moved, r.Deleted)
	if r.Kept > 0 {
		fmt.Fprintf(w, "%d left the lockfile with its file kept, ", r.Kept)
	}
	fmt.Fprintf(w, "%d failed", r.Failed)
	if n := r.NotStarted(); n > 0 {
		fmt.Fprintf(w, ", %d not started", n)
	}
	if r.Abandoned > 0 {
		fmt.Fprintf(w, ", %d abandoned in flight", r.Abandoned)
	}
	if provider == providers.Draft {
		fmt.Fprintf(w, ".\nRendered offline by draft: no request, no credit, in %s.\n", r.Duration.Round(10*time.Millisecond))
		return
	}
	fmt.Fprintf(w, ".\n%s sent (%s, %s answered 429), %s spent, in %s.\n",
		Plural(r.Requests, "request"), retries(r.Retries), Plural(r.Throttled, "request"),
		Plural(r.Credits, "credit"), r.Duration.Round(10*time.Millisecond))
}

// restoredCounts says how many images were restored with no request,
// from the local content cache and from the image store apart: the cache
// count alone when nothing came from the store, the store's alone when
// nothing came from the cache.
func restoredCounts(r *executor.Result) string {
	fromStore := r.RestoredFromStore
	fromCache := r.Restored - fromStore
	switch {
	case fromStore == 0:
		return fmt.Sprintf("%d restored from cache", fromCache)
	case fromCache == 0:
		return fmt.Sprintf("%d restored from store", fromStore)
	}
	return fmt.Sprintf("%d restored from cache, %d restored from store", fromCache, fromStore)
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
