package fakeapi

import (
	"bytes"
	"context"
	"image"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestHostileAnswers checks that each hostile fault answers as documented,
// from a prompt tag and from the fault queue.
func TestHostileAnswers(t *testing.T) {
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tests := map[string]struct {
		fault  Fault
		tag    string
		check  func(t *testing.T, resp *http.Response, body []byte)
		status int
	}{
		"echo": {fault: FaultEcho, tag: "echo", status: 200, check: func(t *testing.T, resp *http.Response, body []byte) {
			for _, h := range []string{"Content-Type", "Retry-After", "Location", "X-Echo"} {
				if !strings.Contains(resp.Header.Get(h), token) {
					t.Errorf("%s = %q, want the token in it", h, resp.Header.Get(h))
				}
			}
			if resp.Header.Get("Content-Type") != "text/"+token || !bytes.Contains(body, []byte(token)) {
				t.Errorf("Content-Type %q, body %q", resp.Header.Get("Content-Type"), body)
			}
		}},
		"echo429": {fault: FaultEcho429, tag: "echo429", status: 429, check: func(t *testing.T, resp *http.Response, body []byte) {
			if resp.Header.Get("Retry-After") != token || bytes.Count(body, []byte(token)) != 4 {
				t.Errorf("Retry-After %q, body %s", resp.Header.Get("Retry-After"), body)
			}
		}},
		"bomb": {fault: FaultBomb, tag: "bomb", status: 200, check: func(t *testing.T, resp *http.Response, body []byte) {
			cfg, _, err := image.DecodeConfig(bytes.NewReader(body))
			if err != nil || cfg.Width != BombSide || cfg.Height != BombSide || len(body) > 1<<20 {
				t.Errorf("bomb: %+v, %v, %d bytes", cfg, err, len(body))
			}
		}},
		"tiny": {fault: FaultTiny, tag: "tiny", status: 200, check: func(t *testing.T, resp *http.Response, body []byte) {
			wantSize(t, body, 1, 1)
		}},
		"wrongratio": {fault: FaultWrongRatio, tag: "wrongratio", status: 200, check: func(t *testing.T, resp *http.Response, body []byte) {
			wantSize(t, body, 100, 300)
		}},
		"redirect": {fault: FaultRedirect, tag: "redirect", status: 307, check: func(t *testing.T, resp *http.Response, body []byte) {
			loc := resp.Header.Get("Location")
			if !strings.HasPrefix(loc, "http://127.0.0.1:") || !strings.Contains(loc, "/v2/image/generations?") {
				t.Errorf("Location = %q", loc)
			}
		}},
	}
	for name, tc := range tests {
		for _, how := range []string{"queue", "tag"} {
			t.Run(name+" "+how, func(t *testing.T) {
				cfg := Config{Token: token, Credits: Unlimited}
				f := okForm()
				if how == "queue" {
					cfg.Faults = []Fault{tc.fault}
				} else {
					f["prompt"] = "x [fault:" + tc.tag + "]"
				}
				srv := New(cfg)
				defer srv.Close()
				resp, body, err := post(t, noRedirect, srv.URL(), token, f)
				if err != nil {
					t.Fatal(err)
				}
				if resp.StatusCode != tc.status {
					t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
				}
				tc.check(t, resp, body)
				// The second attempt succeeds.
				resp, body, err = post(t, noRedirect, srv.URL(), token, f)
				if err != nil || resp.StatusCode != 200 {
					t.Fatalf("second attempt: %v, %v", resp, err)
				}
				wantSize(t, body, 114, 64)
				if st := srv.Stats(); st.Successes != 1 {
					t.Errorf("%d successes, want 1: a hostile answer is no success", st.Successes)
				}
			})
		}
	}
}

func wantSize(t *testing.T, body []byte, w, h int) {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(body))
	if err != nil || img.Bounds().Dx() != w || img.Bounds().Dy() != h {
		t.Errorf("image %v, %v; want %dx%d", img, err, w, h)
	}
}

// TestRedirectElsewhere: the redirect target is a real second server that
// counts who reached it.
func TestRedirectElsewhere(t *testing.T) {
	srv := New(Config{Token: token, Credits: Unlimited, Faults: []Fault{FaultRedirect}})
	defer srv.Close()
	resp, body, err := post(t, nil, srv.URL(), token, okForm()) // follows, as Go does by default
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v, %v", resp, err)
	}
	wantSize(t, body, 64, 64)
	if n, auth := srv.Elsewhere(); n != 1 || auth != 1 {
		t.Errorf("Elsewhere = %d, %d; want 1, 1 (Go forwards the token on a 307 to the same host)", n, auth)
	}
}

// TestHugeAndStall: a huge body streams on until the client stops
// reading; a stalled one sends half the image and then nothing.
func TestHugeAndStall(t *testing.T) {
	srv := New(Config{Token: token, Credits: Unlimited, Faults: []Fault{FaultHuge, FaultStall}})
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp := postStream(t, ctx, srv.URL())
	n, _ := io.CopyN(io.Discard, resp.Body, 8<<20)
	resp.Body.Close()
	if n != 8<<20 {
		t.Errorf("huge body ended after %d bytes", n)
	}

	resp = postStream(t, ctx, srv.URL())
	defer resp.Body.Close()
	buf := make([]byte, resp.ContentLength)
	got, _ := io.ReadAtLeast(resp.Body, buf, int(resp.ContentLength/2))
	done := make(chan int64)
	go func() { m, _ := io.Copy(io.Discard, resp.Body); done <- m }()
	select {
	case m := <-done:
		t.Errorf("stalled body went on: %d+%d of %d bytes", got, m, resp.ContentLength)
	case <-time.After(100 * time.Millisecond):
	}
	cancel()
	<-done
}

func postStream(t *testing.T, ctx context.Context, url string) *http.Response {
	t.Helper()
	var buf bytes.Buffer
	mwBody, ct := multipartOf(t, okForm())
	buf.Write(mwBody)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, &buf)
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestRetryAfterHuge: the huge mode asks for 99999 seconds.
func TestRetryAfterHuge(t *testing.T) {
	srv := New(Config{Token: token, Credits: Unlimited, RetryAfter: RetryAfterHuge, Faults: []Fault{Fault429}})
	defer srv.Close()
	resp, _, err := post(t, nil, srv.URL(), token, okForm())
	if err != nil || resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "99999" {
		t.Fatalf("%v, %v, Retry-After %q", resp, err, resp.Header.Get("Retry-After"))
	}
	if m, err := ParseRetryAfterMode("huge"); err != nil || m != RetryAfterHuge || m.String() != "huge" {
		t.Errorf("ParseRetryAfterMode(huge) = %v, %v", m, err)
	}
}

func multipartOf(t *testing.T, f form) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range f {
		mw.WriteField(k, v)
	}
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}
