package imagine

import (
	"bytes"
	"context"
	"errors"
	"image"
	_ "image/png" // decode the fake's images
	"strings"
	"testing"
	"time"

	"github.com/pixform/pixform/executor"
	"github.com/pixform/pixform/internal/fakeapi"
)

// TestAgainstFake checks the client and the fake agree on the wire format:
// each of the fake's answers gets the failure class classify gives its
// status and code.
func TestAgainstFake(t *testing.T) {
	tests := map[string]struct {
		cfg       fakeapi.Config
		token     string
		prompt    string
		style     string
		wantClass executor.Class // ignored when wantOK
		wantOK    bool
		wantRetry time.Duration
	}{
		"success":          {wantOK: true},
		"success numeric":  {cfg: fakeapi.Config{CodeAsNumber: true}, wantOK: true},
		"wrong token":      {token: "wrong", wantClass: executor.Fatal},
		"expired token":    {token: "expired:x", wantClass: executor.Fatal},
		"no credits":       {cfg: fakeapi.Config{Credits: 10}, style: "flux-dev", wantClass: executor.Fatal},
		"unknown style":    {style: "cubism", wantClass: executor.Invalid},
		"prompt 1100":      {prompt: "x [fault:1100]", wantClass: executor.Invalid},
		"prompt 503":       {prompt: "x [fault:503]", wantClass: executor.Transient},
		"prompt 1206":      {prompt: "x [fault:1206]", wantClass: executor.Fatal},
		"prompt truncate":  {prompt: "x [fault:truncate]", wantClass: executor.Transient},
		"prompt reset":     {prompt: "x [fault:reset]", wantClass: executor.Transient},
		"prompt hang":      {prompt: "x [fault:hang]", wantClass: executor.Transient},
		"prompt json200":   {prompt: "x [fault:json200]", wantClass: executor.Transient},
		"bad gateway":      {cfg: fakeapi.Config{Faults: []fakeapi.Fault{fakeapi.FaultBadGateway}}, wantClass: executor.Transient},
		"hostile echo":     {prompt: "x [fault:echo]", wantClass: executor.Transient},
		"hostile echo429":  {prompt: "x [fault:echo429]", wantClass: executor.Throttled},
		"hostile redirect": {prompt: "x [fault:redirect]", wantClass: executor.Fatal},
		"hostile huge":     {prompt: "x [fault:huge]", wantClass: executor.Transient},
		"hostile stall":    {prompt: "x [fault:stall]", wantClass: executor.Transient},
		"throttled number": {cfg: fakeapi.Config{CodeAsNumber: true, Faults: []fakeapi.Fault{fakeapi.Fault429}}, wantClass: executor.Throttled, wantRetry: time.Second},
		"rate limited": {
			cfg:       fakeapi.Config{RatePerSec: 0.001, Burst: 1},
			prompt:    "twice",
			wantClass: executor.Throttled, wantRetry: 1000 * time.Second,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Token = secret
			if cfg.Credits == 0 {
				cfg.Credits = fakeapi.Unlimited
			}
			srv := fakeapi.New(cfg)
			defer srv.Close()
			token := tc.token
			if token == "" {
				token = secret
			}
			c := New(Options{URL: srv.URL(), Token: token, Timeout: 300 * time.Millisecond})
			req := hero()
			if tc.prompt != "" {
				req.Prompt = tc.prompt
			}
			if tc.style != "" {
				req.Style = tc.style
			}
			if name == "rate limited" {
				// The first request empties the bucket.
				if err := c.Render(context.Background(), req, &bytes.Buffer{}); err != nil {
					t.Fatal(err)
				}
			}
			var out bytes.Buffer
			err := c.Render(context.Background(), req, &out)
			if tc.wantOK {
				if err != nil {
					t.Fatal(err)
				}
				img, _, derr := image.Decode(&out)
				if derr != nil || img.Bounds().Dx() <= img.Bounds().Dy() {
					t.Errorf("decode: %v, bounds %v (want a 16:9 image)", derr, img)
				}
				return
			}
			if err == nil {
				t.Fatal("Render succeeded")
			}
			if got := executor.ClassOf(err); got != tc.wantClass {
				t.Errorf("class %v, want %v: %v", got, tc.wantClass, err)
			}
			if tc.wantRetry != 0 {
				var pe *executor.Error
				if !strings.Contains(err.Error(), "1202") {
					t.Errorf("error %q lacks the code", err)
				}
				if ok := errors.As(err, &pe); !ok || pe.RetryAfter != tc.wantRetry {
					t.Errorf("RetryAfter = %v, want %v", pe, tc.wantRetry)
				}
			}
			if leaks(chainText(err)) {
				t.Errorf("error leaks the token: %v", err)
			}
			if n, _ := srv.Elsewhere(); n != 0 {
				t.Errorf("%d requests followed a redirect", n)
			}
		})
	}
}

// BenchmarkRenderAgainstFake measures the client's overhead per image
// against the in-process fake (no latency, no limits).
func BenchmarkRenderAgainstFake(b *testing.B) {
	srv := fakeapi.New(fakeapi.Config{Token: secret, Credits: fakeapi.Unlimited})
	defer srv.Close()
	c := New(Options{URL: srv.URL(), Token: secret})
	b.RunParallel(func(pb *testing.PB) {
		var out bytes.Buffer
		for pb.Next() {
			out.Reset()
			if err := c.Render(context.Background(), hero(), &out); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
}
