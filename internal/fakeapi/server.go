package fakeapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Stats is what the fake has seen since it started (or since ResetStats).
type Stats struct {
	Requests  int // every request, whatever its answer
	Successes int // whole images sent
	Throttled int // 429 answers
	// ByStatus counts answers by HTTP status; broken answers (reset, hang)
	// count under 0.
	ByStatus map[int]int
	// ByCode counts error answers by vendor code.
	ByCode map[int]int
	// MaxInFlightSeen is the most requests that were in flight at once.
	MaxInFlightSeen int
	// Attempts counts requests by prompt (those whose form parsed).
	Attempts map[string]int
	// ByEndpoint counts requests by the endpoint they were sent to, named
	// by its path below the API's version: "/image/generations" (text to
	// image, also any path that names no other endpoint),
	// "/image/enhance", "/image/background/remover", …
	ByEndpoint map[string]int
	// CreditsSpent is the credits successes cost; CreditsLeft the balance,
	// Unlimited when there is no limit.
	CreditsSpent int
	CreditsLeft  int
	// Log lists every request in the order it was answered.
	Log []LogEntry
}

// LogEntry is one request, for benchmarks' timelines.
type LogEntry struct {
	Start    time.Time     // when it arrived
	Duration time.Duration // until it was answered
	Prompt   string
	Status   int    // HTTP status; 0 when the connection was reset or abandoned
	Code     int    // vendor error code, 0 on success
	Note     string // "truncated", "reset", "hang", "json200", "client gone"
}

// api is the fake's state, shared by the httptest Server and Serve.
type api struct {
	mu       sync.Mutex
	cfg      Config
	credits  int
	faults   []Fault
	tokens   float64 // token bucket level
	shape    shapeState
	last     time.Time
	inflight int
	attempts map[string]int // per prompt, over requests past the rate checks
	stats    Stats

	done      chan struct{} // closed by close: ends hangs and latency
	closeOnce sync.Once

	// held, while not nil, holds every answer at the latency step until
	// Release closes it (Server.Hold).
	held chan struct{}

	// elsewhere is where FaultRedirect points: another server, on another
	// port. Empty points at a port that nothing should listen on.
	elsewhere string
}

func newAPI(cfg Config) *api {
	a := &api{done: make(chan struct{})}
	a.setConfig(cfg)
	a.resetStats()
	return a
}

func (a *api) now() time.Time {
	if a.cfg.Now != nil {
		return a.cfg.Now()
	}
	return time.Now()
}

func (a *api) setConfig(cfg Config) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cfg = cfg
	a.cfg.ExpiredTokens = append([]string(nil), cfg.ExpiredTokens...)
	a.faults = append([]Fault(nil), cfg.Faults...)
	a.credits = cfg.Credits
	if a.credits < 0 {
		a.credits = Unlimited
	}
	a.tokens = float64(a.burst())
	a.shape = shapeState{}
	a.last = a.now()
	a.stats.CreditsLeft = a.credits
}

func (a *api) resetStats() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.stats = Stats{ByStatus: map[int]int{}, ByCode: map[int]int{}, Attempts: map[string]int{}, ByEndpoint: map[string]int{}, CreditsLeft: a.credits}
	a.attempts = map[string]int{}
}

func (a *api) snapshot() Stats {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.stats
	s.ByStatus = maps.Clone(s.ByStatus)
	s.ByCode = maps.Clone(s.ByCode)
	s.Attempts = maps.Clone(s.Attempts)
	s.ByEndpoint = maps.Clone(s.ByEndpoint)
	s.Log = append([]LogEntry(nil), s.Log...)
	return s
}

func (a *api) close() { a.closeOnce.Do(func() { close(a.done) }) }

// burst is the bucket's capacity; a.mu held.
func (a *api) burst() int {
	if a.cfg.Burst > 0 {
		return a.cfg.Burst
	}
	return max(1, int(math.Ceil(a.cfg.RatePerSec)))
}

// take takes a token from the bucket, or says how long until one is there;
// a.mu held.
func (a *api) take(now time.Time) (ok bool, wait time.Duration) {
	rate := a.cfg.RatePerSec
	if rate <= 0 {
		return true, 0
	}
	if el := now.Sub(a.last); el > 0 {
		a.tokens = math.Min(float64(a.burst()), a.tokens+el.Seconds()*rate)
	}
	a.last = now
	if a.tokens >= 1 {
		a.tokens--
		return true, 0
	}
	return false, time.Duration((1 - a.tokens) / rate * float64(time.Second))
}

// ServeHTTP answers one request; see the package doc for the order of checks.
func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Path == "/fakeapi/stats" {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(a.snapshot())
		return
	}
	a.mu.Lock()
	cfg := a.cfg
	start := a.now()
	a.inflight++
	a.stats.Requests++
	a.stats.ByEndpoint[endpointOf(r.URL.Path).path]++
	a.stats.MaxInFlightSeen = max(a.stats.MaxInFlightSeen, a.inflight)
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.inflight--
		a.mu.Unlock()
	}()

	ex := &exchange{a: a, w: w, r: r, cfg: cfg, start: start}
	ex.serve()
}

// exchange is one request being answered.
type exchange struct {
	a      *api
	w      http.ResponseWriter
	r      *http.Request
	cfg    Config
	start  time.Time
	prompt string
	token  string // the bearer token the request carried
	// quick, when not nil, is the text form as quickForm read it: field
	// looks there instead of in r.MultipartForm.
	quick [][2]string
}

// now reads the clock of the request's configuration.
func (ex *exchange) now() time.Time {
	if ex.cfg.Now != nil {
		return ex.cfg.Now()
	}
	return time.Now()
}

// record logs the answer; status 0 marks a broken one.
func (ex *exchange) record(status, code int, note string) {
	a := ex.a
	a.mu.Lock()
	defer a.mu.Unlock()
	a.stats.ByStatus[status]++
	if code != 0 {
		a.stats.ByCode[code]++
	}
	if status == http.StatusTooManyRequests {
		a.stats.Throttled++
	}
	if status == http.StatusOK && note == "" {
		a.stats.Successes++
	}
	a.stats.Log = append(a.stats.Log, LogEntry{Start: ex.start, Duration: a.now().Sub(ex.start), Prompt: ex.prompt, Status: status, Code: code, Note: note})
}

// fail answers with the vendor's JSON error for code; detail, if any,
// replaces the table's message.
func (ex *exchange) fail(code int, detail string, retryAfter time.Duration) {
	ve, _ := vendorErr(code)
	msg := ve.Message
	if detail != "" {
		msg = detail
	}
	body := map[string]any{"status": "error", "code": strconv.Itoa(code), "error": ve.Name, "message": msg}
	if ex.cfg.CodeAsNumber {
		body["code"] = code
	}
	h := ex.w.Header()
	h.Set("Content-Type", "application/json")
	if ve.Status == http.StatusTooManyRequests {
		secs := max(1, int64(math.Ceil(retryAfter.Seconds())))
		switch ex.cfg.RetryAfter {
		case RetryAfterSeconds:
			h.Set("Retry-After", strconv.FormatInt(secs, 10))
		case RetryAfterDate:
			h.Set("Retry-After", ex.now().Add(time.Duration(secs)*time.Second).UTC().Format(http.TimeFormat))
		case RetryAfterHuge:
			h.Set("Retry-After", strconv.Itoa(HugeRetryAfter))
		}
	}
	data, _ := json.Marshal(body)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	ex.w.WriteHeader(ve.Status)
	ex.w.Write(data)
	ex.record(ve.Status, code, "")
}

func (ex *exchange) serve() {
	a, r, cfg := ex.a, ex.r, ex.cfg
	if r.Method != http.MethodPost {
		ex.w.Header().Set("Allow", http.MethodPost)
		http.Error(ex.w, "method not allowed", http.StatusMethodNotAllowed)
		ex.record(http.StatusMethodNotAllowed, 0, "")
		return
	}

	// 1. The bearer token.
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	tok = strings.TrimSpace(tok)
	ex.token = tok
	switch {
	case !ok || tok == "":
		ex.fail(1000, "", 0)
		return
	case strings.HasPrefix(tok, "expired:") || contains(cfg.ExpiredTokens, tok):
		ex.fail(1002, "", 0)
		return
	case cfg.Token != "" && tok != cfg.Token:
		ex.fail(1001, "", 0)
		return
	}

	// 2. The form.
	ep := endpointOf(r.URL.Path)
	var j job
	if ep.op == "" && !ep.unimplemented {
		j, ok = ex.textForm()
	} else {
		j, ok = ex.editForm(ep)
	}
	if !ok {
		return
	}
	prompt, cost, ar := j.prompt, j.cost, j.aspectRatio

	// 3 and 4. Concurrency and rate.
	a.mu.Lock()
	over := cfg.MaxInFlight > 0 && a.inflight > cfg.MaxInFlight
	admitted, wait := true, time.Duration(0)
	if !over {
		admitted, wait = a.takeShaped(a.now())
	}
	a.mu.Unlock()
	if over {
		ex.fail(1202, "", time.Second)
		return
	}
	if !admitted {
		ex.fail(1202, "", wait)
		return
	}

	// 5 and 6. Scripted and prompt faults.
	tags := parseTags(prompt)
	a.mu.Lock()
	scripted := FaultNone
	if len(a.faults) > 0 {
		scripted, a.faults = a.faults[0], a.faults[1:]
	}
	a.attempts[prompt]++
	attempt := a.attempts[prompt]
	a.mu.Unlock()
	pf, hasPF := tags.at(attempt)
	code, kind := faultCode(scripted), scripted
	if scripted == FaultNone && hasPF {
		code, kind = pf.code, pf.kind
	}

	if kind == FaultHang {
		select {
		case <-r.Context().Done():
		case <-a.done:
		}
		ex.record(0, 0, "hang")
		return
	}
	if kind == FaultReset {
		ex.reset()
		return
	}

	// 8 (before 7, so that credits are taken only from answers that are
	// sent). Latency, and a hold (Server.Hold).
	if !ex.sleep(cfg.Latency+tags.slow) || !ex.hold() {
		ex.record(0, 0, "client gone")
		return
	}
	if code != 0 {
		retry := time.Duration(0)
		if code == 1202 {
			retry = time.Second
		}
		ex.fail(code, "", retry)
		return
	}
	if kind == FaultBadGateway {
		ex.w.Header().Set("Content-Type", "text/html")
		ex.w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(ex.w, "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>\n")
		ex.record(http.StatusBadGateway, 0, "")
		return
	}
	if ex.hostile(kind, ar) {
		return
	}
	if kind == FaultJSON200 {
		ex.w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(ex.w, `{"status":"success","data":null}`)
		ex.record(http.StatusOK, 0, "json200")
		return
	}

	// 7. Credits.
	a.mu.Lock()
	short := a.credits != Unlimited && a.credits < cost
	if !short && kind != FaultTruncate {
		if a.credits != Unlimited {
			a.credits -= cost
		}
		a.stats.CreditsSpent += cost
		a.stats.CreditsLeft = a.credits
	}
	a.mu.Unlock()
	if short {
		ex.fail(1101, "", 0)
		return
	}

	// 9. The image.
	data, ct, err := j.render(cfg.JPEG || tags.jpeg)
	if err != nil {
		ex.fail(1300, "", 0)
		return
	}
	h := ex.w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	if kind == FaultTruncate {
		ex.w.WriteHeader(http.StatusOK)
		ex.w.Write(data[:len(data)/2])
		ex.cut(false)
		ex.record(http.StatusOK, 0, "truncated")
		return
	}
	ex.w.WriteHeader(http.StatusOK)
	ex.w.Write(data)
	ex.record(http.StatusOK, 0, "")
}

// job is a request whose form passed its endpoint's checks: what the
// common steps after the form need, and how to make its image.
type job struct {
	prompt      string // for attempts, prompt faults and the log
	cost        int    // credits a success takes
	aspectRatio string // of hostile answers that need one
	render      func(asJPEG bool) ([]byte, string, error)
}

// maxFormBytes bounds a request body: an edit carries one or two images.
const maxFormBytes = 64 << 20

// parseForm reads the multipart body, or answers 400/1100 and reports false.
func (ex *exchange) parseForm() bool {
	ex.r.Body = http.MaxBytesReader(ex.w, ex.r.Body, maxFormBytes)
	if err := ex.r.ParseMultipartForm(1 << 20); err != nil {
		ex.fail(1100, "The request is invalid: the body must be multipart/form-data.", 0)
		return false
	}
	return true
}

// field returns the first value of the form's text field k.
func (ex *exchange) field(k string) (string, bool) {
	if ex.quick != nil {
		return quickField(ex.quick, k)
	}
	v, ok := ex.r.MultipartForm.Value[k]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// counted records an attempt of prompt.
func (ex *exchange) counted(prompt string) {
	ex.prompt = prompt
	ex.a.mu.Lock()
	ex.a.stats.Attempts[prompt]++
	ex.a.mu.Unlock()
}

// textForm checks a text-to-image form, or answers 400/1100.
func (ex *exchange) textForm() (job, bool) {
	if !ex.parseTextForm() {
		return job{}, false
	}
	field := ex.field
	prompt, _ := field("prompt")
	ex.counted(prompt)
	style, _ := field("style")
	cost, styleOK := Cost(style)
	ar, hasAR := field("aspect_ratio")
	seedText, hasSeed := field("seed")
	var seed int64
	switch {
	case strings.TrimSpace(prompt) == "":
		ex.fail(1100, "The request is invalid: prompt is required.", 0)
		return job{}, false
	case !styleOK:
		ex.fail(1100, fmt.Sprintf("The request is invalid: style %q does not exist.", style), 0)
		return job{}, false
	case hasAR && !validRatio(ar):
		ex.fail(1100, fmt.Sprintf("The request is invalid: aspect_ratio %q is not supported.", ar), 0)
		return job{}, false
	case hasSeed:
		n, err := strconv.ParseInt(seedText, 10, 64)
		if err != nil || n < 1 || n > 4294967295 {
			ex.fail(1100, fmt.Sprintf("The request is invalid: seed %q must be an integer from 1 to 4294967295.", seedText), 0)
			return job{}, false
		}
		seed = n
	}
	if !hasAR {
		ar = "1:1"
	}
	return job{prompt: prompt, cost: cost, aspectRatio: ar, render: func(asJPEG bool) ([]byte, string, error) {
		return renderImage(prompt, style, ar, seed, asJPEG)
	}}, true

}

// sleep waits d, and reports false if the client gave up or the fake closed
// first.
func (ex *exchange) sleep(d time.Duration) bool {
	if d <= 0 {
		return ex.r.Context().Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ex.r.Context().Done():
		return false
	case <-ex.a.done:
		return false
	}
}

// hold waits while the fake holds its answers (Server.Hold), and reports
// false if the client gave up or the fake closed first.
func (ex *exchange) hold() bool {
	ex.a.mu.Lock()
	held := ex.a.held
	ex.a.mu.Unlock()
	if held == nil {
		return true
	}
	select {
	case <-held:
		return true
	case <-ex.r.Context().Done():
		return false
	case <-ex.a.done:
		return false
	}
}

// reset answers with a TCP reset.
func (ex *exchange) reset() {
	ex.cut(true)
	ex.record(0, 0, "reset")
}

// cut flushes what was written and closes the connection under it, with a
// reset (RST) when rst is set.
func (ex *exchange) cut(rst bool) {
	if f, ok := ex.w.(http.Flusher); ok && !rst {
		f.Flush()
	}
	hj, ok := ex.w.(http.Hijacker)
	if !ok {
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok && rst {
		tc.SetLinger(0)
	}
	conn.Close()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func validRatio(ar string) bool {
	_, _, ok := ratio(ar)
	return ok
}

// Server is the fake API on an httptest server at a loopback address.
type Server struct {
	ts  *httptest.Server
	api *api
	// other is the server that FaultRedirect sends clients to: it answers
	// every request with an image, and counts them.
	other      *httptest.Server
	otherHits  atomic.Int64
	otherAuths atomic.Int64
}

// New starts a fake API with cfg. Close it when done.
func New(cfg Config) *Server {
	a := newAPI(cfg)
	s := &Server{api: a}
	s.other = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.otherHits.Add(1)
		if r.Header.Get("Authorization") != "" {
			s.otherAuths.Add(1)
		}
		data, ct, _ := renderImage("elsewhere", "flux-dev", "1:1", 1, false)
		w.Header().Set("Content-Type", ct)
		w.Write(data)
	}))
	a.elsewhere = s.other.URL
	s.ts = httptest.NewServer(a)
	return s
}

// Elsewhere returns how many requests reached the server that
// FaultRedirect points at, and how many of them carried an Authorization
// header.
func (s *Server) Elsewhere() (requests, withToken int) {
	return int(s.otherHits.Load()), int(s.otherAuths.Load())
}

// URL returns the endpoint, as IMAGINE_API_URL takes it.
func (s *Server) URL() string { return s.ts.URL + "/v2/image/generations" }

// Close ends hanging requests and shuts the server down.
func (s *Server) Close() {
	s.api.close()
	s.ts.CloseClientConnections()
	s.ts.Close()
	s.other.Close()
}

// Stats returns a copy of what the fake has seen.
func (s *Server) Stats() Stats { return s.api.snapshot() }

// ResetStats forgets what the fake has seen, including per-prompt attempt
// counts (so prompt faults fire again).
func (s *Server) ResetStats() { s.api.resetStats() }

// SetConfig replaces the configuration at run time: the credit balance,
// the fault queue and the token bucket (full) start afresh from cfg; stats
// are kept.
func (s *Server) SetConfig(cfg Config) { s.api.setConfig(cfg) }

// Hold holds every answer that reaches the latency step (after the token,
// form, rate and fault checks) until Release, so that a test can act while
// requests are certainly in flight, however slow the machine, rather than
// within a latency. A client that gives up is let go.
func (s *Server) Hold() {
	s.api.mu.Lock()
	defer s.api.mu.Unlock()
	if s.api.held == nil {
		s.api.held = make(chan struct{})
	}
}

// Release lets the answers held by Hold go on, and ends the hold.
func (s *Server) Release() {
	s.api.mu.Lock()
	defer s.api.mu.Unlock()
	if s.api.held != nil {
		close(s.api.held)
		s.api.held = nil
	}
}

// Inject appends faults to the queue of scripted faults.
func (s *Server) Inject(faults ...Fault) {
	s.api.mu.Lock()
	defer s.api.mu.Unlock()
	s.api.faults = append(s.api.faults, faults...)
}

// ListenAndServe runs the fake API on addr (host:port) until ctx is done.
func ListenAndServe(ctx context.Context, addr string, cfg Config) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("fake API: listen on %s: %w", addr, err)
	}
	return Serve(ctx, ln, cfg)
}

// Serve runs the fake API on ln until ctx is done, then closes ln. Besides
// the API it answers GET /fakeapi/stats with its Stats as JSON.
func Serve(ctx context.Context, ln net.Listener, cfg Config) error {
	a := newAPI(cfg)
	srv := &http.Server{Handler: a, ReadHeaderTimeout: 10 * time.Second}
	stopped := make(chan struct{})
	quit := make(chan struct{})
	go func() {
		defer close(stopped)
		select {
		case <-ctx.Done():
		case <-quit:
		}
		a.close()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	err := srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		<-stopped
		return nil
	}
	close(quit)
	<-stopped
	return fmt.Errorf("fake API: serve on %s: %w", ln.Addr(), err)
}

// hostile answers with a hostile fault, and reports whether kind was one.
func (ex *exchange) hostile(kind Fault, ar string) bool {
	h := ex.w.Header()
	switch kind {
	case FaultEcho:
		h.Set("Content-Type", "text/"+ex.token)
		h.Set("Retry-After", "in "+ex.token+" seconds")
		h.Set("Location", "https://"+ex.token+".example/")
		h.Set("X-Echo", ex.token)
		ex.w.WriteHeader(http.StatusOK)
		fmt.Fprintf(ex.w, "Bearer %s\n", ex.token)
		ex.record(http.StatusOK, 0, "echo")
	case FaultEcho429:
		h.Set("Content-Type", "application/json; charset="+ex.token)
		h.Set("Retry-After", ex.token)
		ex.w.WriteHeader(http.StatusTooManyRequests)
		data, _ := json.Marshal(map[string]string{"status": ex.token, "code": ex.token, "error": ex.token, "message": "token " + ex.token + " is rate limited"})
		ex.w.Write(data)
		ex.record(http.StatusTooManyRequests, 1202, "echo")
	case FaultBomb:
		ex.image(BombPNG(BombSide, BombSide), "bomb")
	case FaultTiny:
		ex.image(plainPNG(1, 1), "tiny")
	case FaultWrongRatio:
		ex.image(plainPNG(100, 300), "wrongratio")
	case FaultHuge:
		h.Set("Content-Type", "image/png")
		ex.w.WriteHeader(http.StatusOK)
		chunk := make([]byte, 1<<20)
		copy(chunk, "\x89PNG\r\n\x1a\n")
		for sent := 0; sent < HugeBytes; sent += len(chunk) {
			if _, err := ex.w.Write(chunk); err != nil {
				break
			}
			chunk = make([]byte, 1<<20)
		}
		ex.record(http.StatusOK, 0, "huge")
	case FaultRedirect:
		to := ex.a.elsewhere
		if to == "" {
			to = "http://127.0.0.1:9"
		}
		h.Set("Location", to+ex.r.URL.Path+"?key=fake-redirect-query")
		ex.w.WriteHeader(http.StatusTemporaryRedirect)
		ex.record(http.StatusTemporaryRedirect, 0, "redirect")
	case FaultStall:
		data, ct, err := renderImage(ex.prompt, "flux-dev", ar, 1, false)
		if err != nil {
			ex.fail(1300, "", 0)
			return true
		}
		h.Set("Content-Type", ct)
		h.Set("Content-Length", strconv.Itoa(len(data)))
		ex.w.WriteHeader(http.StatusOK)
		ex.w.Write(data[:len(data)/2])
		if f, ok := ex.w.(http.Flusher); ok {
			f.Flush()
		}
		select {
		case <-ex.r.Context().Done():
		case <-ex.a.done:
		}
		ex.record(http.StatusOK, 0, "stall")
	default:
		return false
	}
	return true
}

// image answers 200 with a PNG; note marks it as no success.
func (ex *exchange) image(data []byte, note string) {
	ex.w.Header().Set("Content-Type", "image/png")
	ex.w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	ex.w.WriteHeader(http.StatusOK)
	ex.w.Write(data)
	ex.record(http.StatusOK, 0, note)
}
