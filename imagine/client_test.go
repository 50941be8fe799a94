package imagine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/executor"
	"github.com/pixform/pixform/state"
)

// secret is a token distinctive enough that finding it anywhere is a leak.
const secret = "tok-SECRET-8f3a9c41d7"

var fixedNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func hero() executor.Request {
	return executor.Request{Addr: addrs.Addr{Name: "hero"}, Inputs: state.Inputs{Prompt: "a city at night", Style: "flux-dev", AspectRatio: "16:9", Seed: 42}, MediaType: "image/png"}
}

func newClient(url string, timeout time.Duration) *Client {
	return New(Options{URL: url, Token: secret, Timeout: timeout, Now: func() time.Time { return fixedNow }, Version: "1.2.3"})
}

// chainText is every message along err's chain, so a leak anywhere shows.
func chainText(err error) string {
	var b strings.Builder
	for e := err; e != nil; e = errors.Unwrap(e) {
		b.WriteString(e.Error())
		b.WriteString("\n")
		var pe *executor.Error
		if errors.As(e, &pe) {
			b.WriteString(pe.Msg)
			b.WriteString("\n")
		}
	}
	return b.String()
}

func TestRenderErrorResponses(t *testing.T) {
	jsonErr := func(code, name, msg string) string {
		return fmt.Sprintf(`{"status":"error","code":%q,"error":%q,"message":%q}`, code, name, msg)
	}
	tests := map[string]struct {
		status      int
		header      map[string]string
		body        string
		wantClass   executor.Class
		wantRetry   time.Duration
		wantIn      []string
		wantNotIn   []string
		contentType string
	}{
		"429 retry-after seconds": {status: 429, header: map[string]string{"Retry-After": "7"}, body: jsonErr("1202", "too_many_requests", "Excessive requests."),
			wantClass: executor.Throttled, wantRetry: 7 * time.Second, wantIn: []string{"HTTP 429", "1202", "too_many_requests"}},
		"429 retry-after date": {status: 429, header: map[string]string{"Retry-After": fixedNow.Add(30 * time.Second).Format(http.TimeFormat)}, body: jsonErr("1202", "too_many_requests", "slow down"),
			wantClass: executor.Throttled, wantRetry: 30 * time.Second},
		"429 retry-after past date": {status: 429, header: map[string]string{"Retry-After": fixedNow.Add(-time.Minute).Format(http.TimeFormat)},
			wantClass: executor.Throttled, wantRetry: 0},
		"429 retry-after garbage": {status: 429, header: map[string]string{"Retry-After": "soon"},
			wantClass: executor.Throttled, wantRetry: 0},
		"429 without retry-after": {status: 429, body: jsonErr("1202", "x", "y"), wantClass: executor.Throttled},
		"code 1202 as number":     {status: 503, body: `{"status":"error","code":1202,"error":"too_many_requests","message":"m"}`, wantClass: executor.Throttled, wantIn: []string{"1202"}},
		"503 1200":                {status: 503, body: jsonErr("1200", "service_unavailable", "Service not available."), wantClass: executor.Transient, wantIn: []string{"HTTP 503 Service Unavailable", "code 1200", "service_unavailable", "Service not available"}},
		"503 1201":                {status: 503, body: jsonErr("1201", "redis", "m"), wantClass: executor.Transient},
		"503 1203":                {status: 503, body: jsonErr("1203", "db", "m"), wantClass: executor.Transient},
		"504 1204":                {status: 504, body: jsonErr("1204", "timeout", "m"), wantClass: executor.Transient, wantIn: []string{"HTTP 504"}},
		"500 1205":                {status: 500, body: jsonErr("1205", "unexpected", "m"), wantClass: executor.Transient},
		"500 1300":                {status: 500, body: jsonErr("1300", "internal", "m"), wantClass: executor.Transient},
		"500 1300 as number":      {status: 500, body: `{"status":"error","code":1300,"error":"internal","message":"m"}`, wantClass: executor.Transient, wantIn: []string{"code 1300"}},
		"other 5xx":               {status: 599, body: "", wantClass: executor.Transient, wantIn: []string{"HTTP 599"}},
		"502 non-JSON body": {status: 502, body: "<html><body>bad gateway</body></html>", contentType: "text/html",
			wantClass: executor.Transient, wantIn: []string{"HTTP 502 Bad Gateway from the Imagine API"}},
		"400 1100": {status: 400, body: jsonErr("1100", "invalid_request", "style not found"),
			wantClass: executor.Invalid, wantIn: []string{"the Imagine API rejected the request: style not found", "code 1100", "check the image's prompt, style and aspect_ratio"}},
		"400 1100 as number":    {status: 400, body: `{"status":"error","code":1100,"error":"invalid_request","message":"bad"}`, wantClass: executor.Invalid, wantIn: []string{"code 1100"}},
		"400 1000 missing":      {status: 400, body: jsonErr("1000", "missing_token", "The bearer token is missing"), wantClass: executor.Fatal, wantIn: []string{"IMAGINE_API_TOKEN", "code 1000"}},
		"401 1001 invalid":      {status: 401, body: jsonErr("1001", "invalid_token", "The bearer token passed is invalid."), wantClass: executor.Fatal, wantIn: []string{"IMAGINE_API_TOKEN is invalid", "code 1001", "Imagine dashboard"}},
		"401 1005":              {status: 401, body: jsonErr("1005", "app", "m"), wantClass: executor.Fatal, wantIn: []string{"IMAGINE_API_TOKEN"}},
		"401 1006":              {status: 401, body: jsonErr("1006", "device", "m"), wantClass: executor.Fatal, wantIn: []string{"IMAGINE_API_TOKEN"}},
		"401 1007":              {status: 401, body: jsonErr("1007", "account", "m"), wantClass: executor.Fatal, wantIn: []string{"IMAGINE_API_TOKEN"}},
		"401 without body":      {status: 401, wantClass: executor.Fatal, wantIn: []string{"IMAGINE_API_TOKEN is invalid", "HTTP 401"}},
		"406 1002 expired":      {status: 406, body: jsonErr("1002", "expired_token", "The bearer token has expired."), wantClass: executor.Fatal, wantIn: []string{"IMAGINE_API_TOKEN has expired", "1002"}},
		"402 1101 credits":      {status: 402, body: jsonErr("1101", "not_enough_tokens", "Not enough tokens."), wantClass: executor.Fatal, wantIn: []string{"out of credits", "top up your Imagine account", "1101"}},
		"503 1206 unsupported":  {status: 503, body: jsonErr("1206", "unsupported", "Unsupported service."), wantClass: executor.Fatal, wantIn: []string{"IMAGINE_API_URL", "1206"}},
		"other 4xx":             {status: 418, body: jsonErr("", "teapot", "short and stout"), wantClass: executor.Invalid, wantIn: []string{"HTTP 418", "short and stout"}},
		"other 4xx non-JSON":    {status: 422, body: "unprocessable", contentType: "text/plain", wantClass: executor.Invalid, wantIn: []string{"HTTP 422 Unprocessable Entity"}},
		"404 wrong URL":         {status: 404, body: "404 page not found", contentType: "text/plain", wantClass: executor.Fatal, wantIn: []string{"HTTP 404 Not Found", "check IMAGINE_API_URL"}},
		"404 with vendor code":  {status: 404, body: jsonErr("1100", "invalid_request", "no such style"), wantClass: executor.Invalid},
		"server echoes token":   {status: 401, body: jsonErr("1001", "invalid_token", "token "+secret+" is invalid"), wantClass: executor.Fatal, wantIn: []string{"[REDACTED]"}},
		"token echoed non-JSON": {status: 502, body: "Bearer " + secret, contentType: "text/plain", wantClass: executor.Transient},
		"token in error name":   {status: 400, body: jsonErr("1100", secret, secret), wantClass: executor.Invalid},
		"2xx JSON":              {status: 200, body: jsonErr("1300", "internal", "oops"), contentType: "application/json", wantClass: executor.Transient, wantIn: []string{"instead of an image", "oops"}},
		"2xx text":              {status: 200, body: "hello", contentType: "text/plain; charset=utf-8", wantClass: executor.Transient, wantIn: []string{"instead of an image"}},
		"2xx empty":             {status: 200, body: "", contentType: "image/png", wantClass: executor.Transient, wantIn: []string{"empty body"}},
		// A 200 that carries the vendor's error is classified by its code.
		"2xx JSON out of credits": {status: 200, body: jsonErr("1101", "insufficient_credits", "No credits left."), contentType: "application/json", wantClass: executor.Fatal, wantIn: []string{"out of credits", "HTTP 200 OK, code 1101"}},
		"2xx JSON bad token":      {status: 200, body: jsonErr("1001", "invalid_token", "bad"), contentType: "application/json", wantClass: executor.Fatal, wantIn: []string{"IMAGINE_API_TOKEN is invalid"}},
		"2xx JSON as PNG":         {status: 200, body: jsonErr("1101", "insufficient_credits", "No credits left."), contentType: "image/png", wantClass: executor.Fatal, wantIn: []string{"out of credits"}},
		"2xx JSON untyped":        {status: 200, body: "\n" + jsonErr("1100", "invalid_request", "bad prompt"), contentType: "application/octet-stream", wantClass: executor.Invalid, wantIn: []string{"bad prompt"}},
		"2xx JSON as PNG 1300":    {status: 200, body: jsonErr("1300", "internal", "oops"), contentType: "image/png", wantClass: executor.Transient, wantIn: []string{"with text instead of an image", "oops"}},
		"2xx HTML as PNG":         {status: 200, body: "<html>captive portal</html>", contentType: "image/png", wantClass: executor.Transient, wantIn: []string{"with text instead of an image", "captive portal"}},
		"403 no code":             {status: 403, body: "<html>Forbidden</html>", contentType: "text/html", wantClass: executor.Invalid, wantIn: []string{"HTTP 403 Forbidden"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ct := tc.contentType
				if ct == "" {
					ct = "application/json"
				}
				w.Header().Set("Content-Type", ct)
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			var out bytes.Buffer
			err := newClient(srv.URL, 5*time.Second).Render(context.Background(), hero(), &out)
			var pe *executor.Error
			if !errors.As(err, &pe) {
				t.Fatalf("Render = %v, want *executor.Error", err)
			}
			if pe.Class != tc.wantClass {
				t.Errorf("class = %v, want %v (%v)", pe.Class, tc.wantClass, err)
			}
			if pe.RetryAfter != tc.wantRetry {
				t.Errorf("RetryAfter = %v, want %v", pe.RetryAfter, tc.wantRetry)
			}
			for _, s := range tc.wantIn {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
			if strings.Contains(chainText(err), secret) {
				t.Errorf("error leaks the token: %q", chainText(err))
			}
		})
	}
}

func TestRenderRequestAndSuccess(t *testing.T) {
	image := bytes.Repeat([]byte("\x89PNG-fake-image-bytes"), 5000)
	tests := map[string]struct {
		req        executor.Request
		wantFields map[string]string
		wantNoSeed bool
	}{
		"all fields": {req: hero(), wantFields: map[string]string{"prompt": "a city at night", "style": "flux-dev", "aspect_ratio": "16:9", "seed": "42"}},
		"seed zero omitted": {
			req:        executor.Request{Addr: addrs.Addr{Name: "x"}, Inputs: state.Inputs{Prompt: "p", Style: "anime", AspectRatio: "1:1"}},
			wantFields: map[string]string{"prompt": "p", "style": "anime", "aspect_ratio": "1:1"}, wantNoSeed: true},
		"large seed": {
			req:        executor.Request{Addr: addrs.Addr{Name: "x"}, Inputs: state.Inputs{Prompt: "p", Style: "anime", AspectRatio: "1:1", Seed: 4294967295}},
			wantFields: map[string]string{"seed": "4294967295"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var got *http.Request
			var fields map[string][]string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if err := r.ParseMultipartForm(1 << 20); err != nil {
					t.Errorf("parse form: %v", err)
				}
				got, fields = r, r.MultipartForm.Value
				w.Header().Set("Content-Type", "image/png")
				w.Write(image)
			}))
			defer srv.Close()
			var out bytes.Buffer
			if err := newClient(srv.URL, 5*time.Second).Render(context.Background(), tc.req, &out); err != nil {
				t.Fatalf("Render: %v", err)
			}
			if !bytes.Equal(out.Bytes(), image) {
				t.Errorf("wrote %d bytes, want the %d image bytes", out.Len(), len(image))
			}
			if got.Method != http.MethodPost {
				t.Errorf("method = %s", got.Method)
			}
			if h := got.Header.Get("Authorization"); h != "Bearer "+secret {
				t.Errorf("Authorization = %q", h)
			}
			if h := got.Header.Get("Accept"); h != "image/*" {
				t.Errorf("Accept = %q", h)
			}
			if h := got.Header.Get("User-Agent"); h != "pixform/1.2.3" {
				t.Errorf("User-Agent = %q", h)
			}
			for k, v := range tc.wantFields {
				if len(fields[k]) != 1 || fields[k][0] != v {
					t.Errorf("field %s = %q, want %q", k, fields[k], v)
				}
			}
			if _, ok := fields["seed"]; ok && tc.wantNoSeed {
				t.Errorf("seed sent: %q", fields["seed"])
			}
		})
	}
}

// hijackAfter sends headers announcing declared bytes, then n bytes, then
// closes the connection (reset says how).
func hijackAfter(t *testing.T, declared, n int, reset bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		hj, ok := w.(http.Hijacker)
		if !ok {
			t.Error("no hijacker")
			return
		}
		conn, buf, err := hj.Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		if n >= 0 {
			fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: %d\r\n\r\n", declared)
			buf.Write(bytes.Repeat([]byte("x"), n))
			buf.Flush()
		}
		if reset {
			if tc, ok := conn.(*net.TCPConn); ok {
				tc.SetLinger(0)
			}
		}
	}
}

func TestRenderTransportFailures(t *testing.T) {
	tests := map[string]struct {
		handler  http.HandlerFunc
		timeout  time.Duration
		cancel   bool // cancel the caller's ctx once the request arrives
		wantIn   string
		wantIs   error
		wantWrit bool
	}{
		"truncated body":       {handler: hijackAfter(t, 10000, 4000, false), wantIn: "cut short", wantIs: io.ErrUnexpectedEOF},
		"reset before headers": {handler: hijackAfter(t, 0, -1, true), wantIn: "failed"},
		"reset mid body":       {handler: hijackAfter(t, 10000, 4000, true), wantIn: "connection reset"},
		"hung server vs timeout": {
			handler: func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
			timeout: 200 * time.Millisecond, wantIn: "timed out after 200ms", wantIs: context.DeadlineExceeded},
		"hung mid body vs timeout": {
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "100000")
				w.Write(make([]byte, 1000))
				w.(http.Flusher).Flush()
				<-r.Context().Done()
			},
			timeout: 200 * time.Millisecond, wantIn: "timed out", wantIs: context.DeadlineExceeded},
		"caller cancels": {
			handler: func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
			cancel:  true, wantIn: "stopped", wantIs: context.Canceled},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			arrived := make(chan struct{}, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				// Read the whole body so that the server notices when the
				// client hangs up, and cancels r.Context().
				io.Copy(io.Discard, r.Body)
				arrived <- struct{}{}
				tc.handler(w, r)
			}))
			defer srv.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancel {
				go func() { <-arrived; cancel() }()
			}
			err := newClient(srv.URL, tc.timeout).Render(ctx, hero(), io.Discard)
			var pe *executor.Error
			if !errors.As(err, &pe) || pe.Class != executor.Transient {
				t.Fatalf("Render = %v, want a transient *executor.Error", err)
			}
			if !strings.Contains(err.Error(), tc.wantIn) {
				t.Errorf("error %q lacks %q", err, tc.wantIn)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.wantIs)
			}
			if strings.Contains(chainText(err), secret) {
				t.Errorf("error leaks the token: %q", chainText(err))
			}
		})
	}
}

func TestRenderWithoutTokenSendsNothing(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	err := New(Options{URL: srv.URL}).Render(context.Background(), hero(), io.Discard)
	if executor.ClassOf(err) != executor.Fatal || !strings.Contains(err.Error(), "IMAGINE_API_TOKEN is not set") {
		t.Errorf("Render = %v, want Fatal naming IMAGINE_API_TOKEN", err)
	}
	// The executor counts a request only when one was sent.
	if pe := (*executor.Error)(nil); !errors.As(err, &pe) || !pe.NotSent {
		t.Errorf("Render = %#v, want an *executor.Error with NotSent", err)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests sent without a token", n)
	}
}

type failingWriter struct{ err error }

func (f failingWriter) Write(p []byte) (int, error) { return 0, f.err }

func TestRenderWriterError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write([]byte("image"))
	}))
	defer srv.Close()
	disk := errors.New("no space left on device")
	err := newClient(srv.URL, 0).Render(context.Background(), hero(), failingWriter{disk})
	if !errors.Is(err, disk) {
		t.Errorf("Render = %v, want it to wrap the writer's error", err)
	}
}

func TestNewDefaults(t *testing.T) {
	c := New(Options{Token: "t"})
	tests := map[string]struct{ got, want string }{
		"name":       {c.Name(), "imagine"},
		"url":        {c.url, DefaultURL},
		"user agent": {c.userAgent, "pixform/dev"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	tests := map[string]struct {
		in   string
		want time.Duration
	}{
		"empty":        {"", 0},
		"seconds":      {"12", 12 * time.Second},
		"spaces":       {" 3 ", 3 * time.Second},
		"zero":         {"0", 0},
		"negative":     {"-5", 0},
		"huge":         {"99999999999", 24 * time.Hour},
		"date future":  {fixedNow.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		"date past":    {fixedNow.Add(-90 * time.Second).Format(http.TimeFormat), 0},
		"garbage":      {"tomorrow-ish", 0},
		"fractional":   {"1.5", 0},
		"rfc850 date":  {fixedNow.Add(time.Minute).Format(time.RFC850), time.Minute},
		"asctime date": {fixedNow.Add(time.Minute).Format(time.ANSIC), time.Minute},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := retryAfter(tc.in, fixedNow); got != tc.want {
				t.Errorf("retryAfter(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestDecodeError(t *testing.T) {
	tests := map[string]struct {
		body   string
		want   apiError
		wantOK bool
	}{
		"string code":  {`{"status":"error","code":"1100","error":"invalid","message":"bad style"}`, apiError{"error", "1100", "invalid", "bad style"}, true},
		"number code":  {`{"status":"error","code":1202,"error":"throttled","message":"m"}`, apiError{"error", "1202", "throttled", "m"}, true},
		"float code":   {`{"code":1300.0}`, apiError{Code: "1300"}, true},
		"extra fields": {`{"code":"1001","detail":{"x":1}}`, apiError{Code: "1001"}, true},
		"not JSON":     {`<html>502</html>`, apiError{}, false},
		"empty object": {`{}`, apiError{}, false},
		"array":        {`[1,2]`, apiError{}, false},
		"wrong types":  {`{"code":{"a":1},"message":["x"]}`, apiError{}, false},
		"empty":        {``, apiError{}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := decodeError([]byte(tc.body))
			if ok != tc.wantOK || got != tc.want {
				t.Errorf("decodeError(%q) = %+v, %v; want %+v, %v", tc.body, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func FuzzDecodeError(f *testing.F) {
	for _, s := range []string{
		`{"status":"error","code":"1100","error":"invalid","message":"bad style"}`,
		`{"status":"error","code":1202,"error":"throttled","message":"m"}`,
		`{"code":1e400}`, `{"code":-0.5}`, `null`, `"x"`, `<html>`, "\xff\xfe", `{"message":"\u0000\ud800"}`,
	} {
		f.Add([]byte(s), 400)
	}
	f.Fuzz(func(t *testing.T, body []byte, status int) {
		e, ok := decodeError(body)
		if !ok && e != (apiError{}) {
			t.Errorf("not ok but %+v", e)
		}
		pe := errorFor(status, http.Header{}, append(body, []byte(secret)...), secret, fixedNow, "")
		if pe == nil || pe.Msg == "" {
			t.Fatalf("errorFor gave %+v", pe)
		}
		if strings.Contains(pe.Msg, secret) {
			t.Errorf("token leaked: %q", pe.Msg)
		}
	})
}

// A client done with (watch makes one per apply) closes its idle
// connections when told, instead of keeping one open per apply until the
// transport's idle timeout.
func TestCloseIdleConnections(t *testing.T) {
	closed := make(chan struct{}, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(pngOf(t, 4, 4))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateClosed {
			select {
			case closed <- struct{}{}:
			default:
			}
		}
	}
	srv.Start()
	defer srv.Close()
	c := newClient(srv.URL, 5*time.Second)
	if err := c.Render(context.Background(), hero(), io.Discard); err != nil {
		t.Fatalf("Render: %v", err)
	}
	c.CloseIdleConnections()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the server's connection is still open after CloseIdleConnections")
	}
}

// TestFatalCause: a run stopped by the token or by the credits carries
// ErrToken or ErrNoCredits, from which the hint says what to do before
// running apply again; other stops carry neither.
func TestFatalCause(t *testing.T) {
	for name, tc := range map[string]struct {
		status int
		body   string
		want   error
	}{
		"401 1001":         {401, `{"code":"1001","error":"invalid_token"}`, ErrToken},
		"401 without code": {401, ``, ErrToken},
		"400 1000":         {400, `{"code":1000}`, ErrToken},
		"406 1002":         {406, `{"code":"1002"}`, ErrToken},
		"401 1006":         {401, `{"code":"1006"}`, ErrToken},
		"402 1101":         {402, `{"code":"1101"}`, ErrNoCredits},
		"402 without code": {402, ``, ErrNoCredits},
		"503 1206":         {503, `{"code":"1206"}`, nil},
		"404":              {404, ``, nil},
	} {
		t.Run(name, func(t *testing.T) {
			pe := errorFor(tc.status, http.Header{}, []byte(tc.body), secret, fixedNow, "")
			if pe.Class != executor.Fatal {
				t.Fatalf("class %v, want Fatal", pe.Class)
			}
			for _, e := range []error{ErrToken, ErrNoCredits} {
				if got := errors.Is(pe, e); got != (e == tc.want) {
					t.Errorf("errors.Is(%q, %v) = %v", pe.Msg, e, got)
				}
			}
		})
	}
}

// TestForbiddenStreakStops: a 403 with no vendor code is a proxy's or a
// firewall's answer. One fails its image alone (a rule a prompt tripped);
// forbiddenStreak of them with no image between stop the run, and an image
// that arrives between starts the count again.
func TestForbiddenStreakStops(t *testing.T) {
	var serve atomic.Value
	serve.Store("403")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if serve.Load() == "png" {
			w.Header().Set("Content-Type", "image/png")
			w.Write([]byte("\x89PNG-fake"))
			return
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, "<html>Forbidden</html>")
	}))
	defer srv.Close()
	c := newClient(srv.URL, 5*time.Second)
	render := func() executor.Class {
		return executor.ClassOf(c.Render(context.Background(), hero(), io.Discard))
	}
	want := []executor.Class{executor.Invalid, executor.Invalid}
	for i, w := range want {
		if got := render(); got != w {
			t.Fatalf("answer %d: class %v, want %v", i+1, got, w)
		}
	}
	serve.Store("png")
	if err := c.Render(context.Background(), hero(), io.Discard); err != nil {
		t.Fatalf("image between: %v", err)
	}
	serve.Store("403")
	for i := range forbiddenStreak - 1 {
		if got := render(); got != executor.Invalid {
			t.Fatalf("answer %d after an image: class %v, want invalid", i+1, got)
		}
	}
	err := c.Render(context.Background(), hero(), io.Discard)
	if executor.ClassOf(err) != executor.Fatal || !strings.Contains(err.Error(), "3 answers in a row were HTTP 403 Forbidden") || !strings.Contains(err.Error(), "IMAGINE_API_URL") {
		t.Fatalf("answer %d: %v, want a fatal error naming the streak and IMAGINE_API_URL", forbiddenStreak, err)
	}
}
