package imagine

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pixform/pixform/executor"
)

// leaks reports whether text holds the token in any letter case: some
// parsers (media types) lower-case what the server sent.
func leaks(text string) bool {
	// Any eight letters of it in a row: a piece of the token is a leak
	// too.
	text, tok := strings.ToLower(text), strings.ToLower(secret)
	for i := 0; i+8 <= len(tok); i++ {
		if strings.Contains(text, tok[i:i+8]) {
			return true
		}
	}
	return false
}

// rawServer answers every connection with resp, written as it is, after
// reading the request headers.
func rawServer(t *testing.T, resp string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				br := bufio.NewReader(conn)
				if _, err := http.ReadRequest(br); err != nil {
					return
				}
				io.WriteString(conn, resp)
			}()
		}
	}()
	return "http://" + ln.Addr().String() + "/v2/image/generations"
}

// TestTokenNeverInErrors sends the token back in every header and body
// field the client reads, and in the raw response where Go's own parser
// quotes it.
func TestTokenNeverInErrors(t *testing.T) {
	upper := strings.ToUpper(secret)
	jsonErr := func(code, name, msg string) string {
		return fmt.Sprintf(`{"status":"error","code":%q,"error":%q,"message":%q}`, code, name, msg)
	}
	type answer struct {
		status int
		header map[string]string
		body   string
	}
	tests := map[string]struct {
		answer answer
		raw    string // a whole raw response instead of answer
	}{
		"200 text content type":        {answer: answer{200, map[string]string{"Content-Type": "text/" + secret}, "x"}},
		"200 text content type upper":  {answer: answer{200, map[string]string{"Content-Type": "text/" + upper}, "x"}},
		"200 json suffix content type": {answer: answer{200, map[string]string{"Content-Type": "application/" + secret + "+json"}, "{}"}},
		"200 json body message":        {answer: answer{200, map[string]string{"Content-Type": "application/json"}, jsonErr("1", secret, secret)}},
		"200 text body":                {answer: answer{200, map[string]string{"Content-Type": "text/plain"}, secret + "\nmore"}},
		"200 text body split by ctl":   {answer: answer{200, map[string]string{"Content-Type": "text/plain"}, secret[:5] + "\x00" + secret[5:]}},
		"503 text split across lines":  {answer: answer{503, map[string]string{"Content-Type": "text/plain"}, "oops " + secret[:10] + "\r\n" + secret[10:]}},
		"503 text split by spaces":     {answer: answer{503, map[string]string{"Content-Type": "text/plain"}, "oops " + secret[:10] + " \u200b " + secret[10:] + " end"}},
		"429 retry-after garbage":      {answer: answer{429, map[string]string{"Retry-After": "in " + secret + " seconds"}, jsonErr("1202", secret, secret)}},
		"503 all fields":               {answer: answer{503, map[string]string{"Content-Type": "application/json"}, jsonErr(secret, secret, secret)}},
		"401 message upper case":       {answer: answer{401, nil, jsonErr("1001", "invalid", "token "+upper+" is invalid")}},
		"502 html body":                {answer: answer{502, map[string]string{"Content-Type": "text/html"}, "<p>" + secret + "</p>"}},
		"418 long message":             {answer: answer{418, nil, jsonErr("", "x", strings.Repeat("a", maxServerText-5)+secret)}},
		"307 location host":            {answer: answer{307, map[string]string{"Location": "http://" + secret + ".example:8080/x?token=" + secret}, ""}},
		"302 location relative":        {answer: answer{302, map[string]string{"Location": "/" + secret + "?t=" + secret}, ""}},
		"raw status line":              {raw: "HTTP/1.1 200 " + secret + "\r\nContent-Type: text/" + secret + "\r\nContent-Length: 1\r\n\r\nx"},
		"raw malformed status":         {raw: "HTTP/1.1 2" + secret + "\r\n\r\n"},
		"raw malformed header":         {raw: "HTTP/1.1 200 OK\r\n" + secret + "\r\n\r\n"},
		"raw bad content length":       {raw: "HTTP/1.1 200 OK\r\nContent-Length: " + secret + "\r\n\r\n"},
		"raw bad chunk":                {raw: "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n" + secret + "\r\n"},
		"raw bad protocol":             {raw: secret + " 200 OK\r\n\r\n"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			u := ""
			if tc.raw != "" {
				u = rawServer(t, tc.raw)
			} else {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					io.Copy(io.Discard, r.Body)
					for k, v := range tc.answer.header {
						w.Header()[k] = []string{v}
					}
					w.WriteHeader(tc.answer.status)
					io.WriteString(w, tc.answer.body)
				}))
				defer srv.Close()
				u = srv.URL
			}
			err := newClient(u, 5*time.Second).Render(context.Background(), hero(), io.Discard)
			if err == nil {
				t.Fatal("Render = nil, want an error")
			}
			var pe *executor.Error
			if !errors.As(err, &pe) {
				t.Fatalf("Render = %v, want *executor.Error", err)
			}
			if leaks(chainText(err)) {
				t.Errorf("error leaks the token: %q", chainText(err))
			}
		})
	}
}

// TestCleanDropsTerminalControls: server text cannot move the cursor or
// recolour the terminal.
func TestCleanDropsTerminalControls(t *testing.T) {
	got := clean("a\x1b[2J\x1b]0;title\x07b\u202ec\r\nd", secret, 100)
	if strings.ContainsAny(got, "\x1b\x07\r\n\u202e") {
		t.Errorf("clean kept control characters: %q", got)
	}
}

// TestInvalidTokenIsLocalAndFatal: a token that cannot be a header value is
// the environment's fault: no request, a Fatal error that does not print it.
func TestInvalidTokenIsLocalAndFatal(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	tests := map[string]string{
		"trailing newline": secret + "\n",
		"inner newline":    "tok-A\ntok-B-" + secret,
		"carriage return":  secret + "\r",
		"nul":              secret + "\x00",
		"delete":           "\x7f" + secret,
	}
	for name, token := range tests {
		t.Run(name, func(t *testing.T) {
			err := New(Options{URL: srv.URL, Token: token}).Render(context.Background(), hero(), io.Discard)
			if executor.ClassOf(err) != executor.Fatal {
				t.Fatalf("Render = %v (%v), want Fatal", err, executor.ClassOf(err))
			}
			if !strings.Contains(err.Error(), "IMAGINE_API_TOKEN") || !strings.Contains(err.Error(), "header") {
				t.Errorf("error %q does not name IMAGINE_API_TOKEN and the header", err)
			}
			text := chainText(err)
			if leaks(text) || strings.Contains(text, "tok-A") {
				t.Errorf("error prints the token: %q", text)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests sent with an invalid token", n)
	}
}

// TestRedirectsRefused: the API does not redirect; a redirect is not
// followed (the token would go with it) and stops the run, naming the
// host without the path, query or token.
func TestRedirectsRefused(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		w.Header().Set("Content-Type", "image/png")
		w.Write([]byte("\x89PNG\r\n\x1a\nnot really"))
	}))
	defer other.Close()
	ou, _ := url.Parse(other.URL)
	for _, status := range []int{301, 302, 303, 307, 308} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				http.Redirect(w, r, other.URL+"/steal?key=QUERYSECRET", status)
			}))
			defer srv.Close()
			var out bytes.Buffer
			err := newClient(srv.URL, 5*time.Second).Render(context.Background(), hero(), &out)
			if executor.ClassOf(err) != executor.Fatal {
				t.Fatalf("Render = %v, want Fatal", err)
			}
			for _, want := range []string{"redirect", ou.Host, "does not follow redirects", "IMAGINE_API_URL"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "QUERYSECRET") || strings.Contains(err.Error(), "/steal") {
				t.Errorf("error shows the redirect's path or query: %q", err)
			}
			if out.Len() != 0 {
				t.Errorf("%d bytes written from a redirect", out.Len())
			}
		})
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the redirect was followed %d times", n)
	}
}

// TestRedirectsRefusedWithInjectedClient: an injected http.Client that
// would follow redirects does not.
func TestRedirectsRefusedWithInjectedClient(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL, http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	hc := &http.Client{}
	err := New(Options{URL: srv.URL, Token: secret, HTTPClient: hc}).Render(context.Background(), hero(), io.Discard)
	if executor.ClassOf(err) != executor.Fatal || elsewhere.Load() != 0 {
		t.Errorf("Render = %v with %d requests elsewhere, want Fatal and none", err, elsewhere.Load())
	}
	if hc.CheckRedirect != nil {
		t.Error("New changed the caller's http.Client")
	}
}

// TestBodyCap: a body beyond MaxBytes is refused, whether announced by
// Content-Length or streamed, and no more than MaxBytes reach the writer.
func TestBodyCap(t *testing.T) {
	const limit = 64 << 10
	tests := map[string]http.HandlerFunc{
		"content-length": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "image/png")
			w.Header().Set("Content-Length", fmt.Sprint(limit+1))
			w.Write(make([]byte, limit+1))
		},
		"streamed": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "image/png")
			for range 20 {
				w.Write(make([]byte, 16<<10))
				w.(http.Flusher).Flush()
			}
		},
		"unending": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "image/png")
			for r.Context().Err() == nil {
				if _, err := w.Write(make([]byte, 16<<10)); err != nil {
					return
				}
			}
		},
	}
	for name, h := range tests {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(h)
			defer srv.Close()
			var out bytes.Buffer
			c := New(Options{URL: srv.URL, Token: secret, Timeout: 10 * time.Second, MaxBytes: limit})
			err := c.Render(context.Background(), hero(), &out)
			if executor.ClassOf(err) != executor.Transient || err == nil {
				t.Fatalf("Render = %v, want a transient error", err)
			}
			if !strings.Contains(err.Error(), "larger than 64 KiB") {
				t.Errorf("error %q does not give the limit", err)
			}
			if out.Len() > limit {
				t.Errorf("%d bytes written, more than the %d limit", out.Len(), limit)
			}
		})
	}
	t.Run("at the limit", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "image/png")
			w.Write(make([]byte, limit))
		}))
		defer srv.Close()
		var out bytes.Buffer
		err := New(Options{URL: srv.URL, Token: secret, MaxBytes: limit}).Render(context.Background(), hero(), &out)
		if err != nil || out.Len() != limit {
			t.Errorf("Render = %v with %d bytes, want nil with %d", err, out.Len(), limit)
		}
	})
}

// TestIdleTimeout: a body that stops arriving is given up after the idle
// timeout, well inside the overall timeout, as a transient failure.
func TestIdleTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Header().Set("Content-Length", "100000")
		w.Write(make([]byte, 1000))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()
	c := New(Options{URL: srv.URL, Token: secret, Timeout: time.Hour, IdleTimeout: 100 * time.Millisecond})
	err := c.Render(context.Background(), hero(), io.Discard)
	if executor.ClassOf(err) != executor.Transient || err == nil {
		t.Fatalf("Render = %v, want transient", err)
	}
	if !strings.Contains(err.Error(), "no data for 100ms") {
		t.Errorf("error %q does not say the body stalled", err)
	}
}

// TestIdleTimeoutResetByData: a slow but steady body is not cut.
func TestIdleTimeoutResetByData(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		for range 6 {
			w.Write(make([]byte, 10))
			w.(http.Flusher).Flush()
			time.Sleep(40 * time.Millisecond)
		}
	}))
	defer srv.Close()
	c := New(Options{URL: srv.URL, Token: secret, IdleTimeout: 2 * time.Second})
	if err := c.Render(context.Background(), hero(), io.Discard); err != nil {
		t.Errorf("Render = %v, want nil", err)
	}
}

// closedURL returns a URL on a loopback port that nothing listens on.
func closedURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// TestConnectionRefusedFirst: a server that refused every connection so far
// stops the run, naming the URL without credentials or query.
func TestConnectionRefusedFirst(t *testing.T) {
	base := closedURL(t)
	u := strings.Replace(base, "http://", "http://user:"+secret+"@", 1) + "/v2/image/generations?key=" + secret
	err := New(Options{URL: u, Token: secret}).Render(context.Background(), hero(), io.Discard)
	if executor.ClassOf(err) != executor.Fatal {
		t.Fatalf("Render = %v, want Fatal", err)
	}
	want := "cannot connect to " + base + "/v2/image/generations: connection refused; check IMAGINE_API_URL and your network"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q lacks %q", err, want)
	}
	if leaks(chainText(err)) || strings.Contains(err.Error(), "user") || strings.Contains(err.Error(), "key=") {
		t.Errorf("error shows credentials or the query: %q", err)
	}
}

// TestConnectionRefusedLater: once a request got through, a refusal is a
// passing fault, retried.
func TestConnectionRefusedLater(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		w.Header().Set("Content-Type", "image/png")
		w.Write([]byte("image"))
	}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	c := New(Options{URL: srv.URL, Token: secret})
	if err := c.Render(context.Background(), hero(), io.Discard); err != nil {
		t.Fatalf("first Render = %v", err)
	}
	srv.Close()
	err = c.Render(context.Background(), hero(), io.Discard)
	if err == nil || executor.ClassOf(err) != executor.Transient {
		t.Errorf("Render after the server went = %v (%v), want transient", err, executor.ClassOf(err))
	}
}

// TestShownURL: the URL in messages has no credentials and no query.
func TestShownURL(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"plain":    {"https://api.vyro.ai/v2/image/generations", "https://api.vyro.ai/v2/image/generations"},
		"userinfo": {"https://u:p@h.example/x", "https://h.example/x"},
		"query":    {"https://h.example/x?key=k#frag", "https://h.example/x"},
		"token":    {"https://h.example/" + secret, "https://h.example/[REDACTED]"},
		"garbage":  {"::" + secret, "(an unreadable URL)"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := shownURL(tc.in, secret); got != tc.want {
				t.Errorf("shownURL(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestScrubShortToken: a token that is a piece of the replacement does not
// eat the replacement when text is scrubbed twice.
func TestScrubShortToken(t *testing.T) {
	tests := map[string]struct{ in, token, want string }{
		"one letter":      {"at", "t", "a[REDACTED]"},
		"inside marker":   {"x red y", "red", "x [REDACTED] y"},
		"case folded":     {"Bearer TOK-secret", "tok-SECRET", "Bearer [REDACTED]"},
		"twice":           {"tok-secrettok-secret", "tok-secret", "[REDACTED][REDACTED]"},
		"empty token":     {"abc", "", "abc"},
		"shorter than it": {"ab", "abc", "ab"},
		"across lines":    {"x tok-se\r\ncret y", "tok-secret", "x [REDACTED] y"},
		"spaced out":      {"x tok - secret", "tok-secret", "x [REDACTED]"},
		"cut short":       {"x tok-secre", "tok-secret", "x tok-secre"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			once := scrub(tc.in, tc.token)
			if once != tc.want {
				t.Errorf("scrub(%q, %q) = %q, want %q", tc.in, tc.token, once, tc.want)
			}
			if twice := scrub(once, tc.token); twice != once {
				t.Errorf("scrubbing again gave %q", twice)
			}
			if got := clean(tc.in, tc.token, 100); got != tc.want {
				t.Errorf("clean = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestNoSuchHostFirst: a host that does not resolve, before any answer,
// stops the run like a refused connection.
func TestNoSuchHostFirst(t *testing.T) {
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: "api.example.invalid", IsNotFound: true}}
	}}
	c := New(Options{URL: "https://api.example.invalid/v2/image/generations", Token: secret, HTTPClient: &http.Client{Transport: tr}})
	err := c.Render(context.Background(), hero(), io.Discard)
	if executor.ClassOf(err) != executor.Fatal || !strings.Contains(err.Error(), "cannot connect to https://api.example.invalid/v2/image/generations: no such host") {
		t.Errorf("Render = %v (%v), want Fatal naming the URL", err, executor.ClassOf(err))
	}
}
