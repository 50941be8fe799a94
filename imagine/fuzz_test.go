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
	"strings"
	"testing"
	"time"

	"github.com/pixform/pixform/executor"
)

// tokenMark in a fuzzed response stands for the token, so that the corpus
// can put it anywhere.
const tokenMark = "$TOKEN"

// FuzzResponse answers a request with a fuzzed raw HTTP response (status,
// header lines, body): the client must not panic, must classify every
// failure as an *executor.Error, and must never show the token, in any
// letter case.
func FuzzResponse(f *testing.F) {
	png := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
	seeds := []struct {
		status int
		header string
		body   string
	}{
		{200, "Content-Type: image/png", png},
		{200, "Content-Type: text/$TOKEN", "$TOKEN"},
		{200, "Content-Type: application/$TOKEN+json", `{"message":"$TOKEN"}`},
		{200, "Content-Type: text/plain; charset=$TOKEN\nContent-Length: 3", "abc"},
		{200, "Content-Length: 100", "short"},
		{200, "Transfer-Encoding: chunked", "5\r\nhello\r\n$TOKEN\r\n"},
		{200, "Content-Length: $TOKEN", ""},
		{429, "Retry-After: $TOKEN\nContent-Type: application/json", `{"status":"$TOKEN","code":"$TOKEN","error":"$TOKEN","message":"$TOKEN"}`},
		{429, "Retry-After: 99999999999999999999", `{"code":1202}`},
		{503, "Content-Type: application/json", `{"status":"error","code":1200,"error":"x","message":"tok\u0000$TOKEN"}`},
		{401, "", `{"code":"1001","message":"$TOKEN"}`},
		{502, "Content-Type: text/html", "<h1>$TOKEN</h1>\n"},
		{307, "Location: http://$TOKEN.example:1/x?k=$TOKEN", ""},
		{302, "Location: ::$TOKEN", ""},
		{301, "Location: //[::1]:$TOKEN/", ""},
		{100, "", ""},
		{999, "$TOKEN", "$TOKEN"},
		{-1, "X: $TOKEN", ""},
		{200, "\x1b[31m: $TOKEN", "\x1b]0;$TOKEN\x07"},
	}
	for _, s := range seeds {
		f.Add(s.status, s.header, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, status int, header string, body []byte) {
		raw := fmt.Sprintf("HTTP/1.1 %d Fuzzed\r\n%s\r\n\r\n", status, strings.ReplaceAll(header, "\n", "\r\n"))
		raw = strings.ReplaceAll(raw, tokenMark, secret)
		raw += string(bytes.ReplaceAll(body, []byte(tokenMark), []byte(secret)))
		u := oneShotServer(t, raw)
		c := New(Options{URL: u, Token: secret, Timeout: 5 * time.Second, IdleTimeout: time.Second, MaxBytes: 1 << 20, Now: func() time.Time { return fixedNow }})
		var out bytes.Buffer
		err := c.Render(context.Background(), hero(), &out)
		c.hc.CloseIdleConnections()
		if err == nil {
			return
		}
		var pe *executor.Error
		if !errors.As(err, &pe) {
			t.Fatalf("Render = %T %v, want *executor.Error", err, err)
		}
		if pe.Class < executor.Transient || pe.Class > executor.Fatal || pe.Msg == "" {
			t.Errorf("unclassified: %+v", pe)
		}
		if leaks(chainText(err)) {
			t.Errorf("the token leaks: %q", chainText(err))
		}
		if strings.ContainsAny(pe.Msg, "\x1b\x07\r\n\x00") {
			t.Errorf("control characters reach the message: %q", pe.Msg)
		}
	})
}

// oneShotServer answers the first connection with raw once the request is
// read, closes it, and stops listening when the test ends.
func oneShotServer(t *testing.T, raw string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			br := bufio.NewReader(conn)
			if req, err := http.ReadRequest(br); err == nil {
				io.Copy(io.Discard, req.Body)
				io.WriteString(conn, raw)
			}
			conn.Close()
		}
	}()
	return "http://" + ln.Addr().String() + "/v2/image/generations"
}
