package fakeapi

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Requests on one connection are answered in turn, the connection kept,
// also after a request whose latency made the fake watch the connection
// (its request context's Done) while it waited.
func TestConnKeptAcrossRequests(t *testing.T) {
	for _, latency := range []time.Duration{0, 20 * time.Millisecond} {
		s := New(Config{Token: token, Credits: Unlimited, Latency: latency})
		var dials atomic.Int32
		tr := &http.Transport{MaxConnsPerHost: 1, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}}
		client := &http.Client{Transport: tr}
		for i := range 3 {
			resp, body, err := post(t, client, s.URL(), token, okForm())
			if err != nil || resp.StatusCode != 200 || resp.ContentLength != int64(len(body)) || resp.Header.Get("Content-Type") != "image/png" {
				t.Fatalf("latency %v, request %d: %v %v (%d bytes)", latency, i, err, resp, len(body))
			}
		}
		if n := dials.Load(); n != 1 {
			t.Errorf("latency %v: %d connections for 3 requests, want 1", latency, n)
		}
		tr.CloseIdleConnections()
		s.Close()
	}
}

// A client that asks to be told to continue (curl, for a large body) is
// told at once, and answered.
func TestConnExpectContinue(t *testing.T) {
	s := New(Config{Token: token, Credits: Unlimited})
	defer s.Close()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range okForm() {
		mw.WriteField(k, v)
	}
	mw.Close()
	c, err := net.Dial("tcp", strings.TrimPrefix(strings.TrimSuffix(s.URL(), "/v2/image/generations"), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	head := "POST /v2/image/generations HTTP/1.1\r\nHost: fake\r\nAuthorization: Bearer " + token +
		"\r\nContent-Type: " + mw.FormDataContentType() + "\r\nExpect: 100-continue\r\nContent-Length: " +
		strconv.Itoa(body.Len()) + "\r\n\r\n"
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	line, err := br.ReadString('\n')
	if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
		t.Fatalf("first line %q, %v; want 100 Continue", line, err)
	}
	if l, _ := br.ReadString('\n'); l != "\r\n" {
		t.Fatalf("after 100 Continue: %q", l)
	}
	if _, err := c.Write(body.Bytes()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("answer %v, %v", resp, err)
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil || int64(len(data)) != resp.ContentLength {
		t.Errorf("body %d bytes of %d, %v", len(data), resp.ContentLength, err)
	}
}
