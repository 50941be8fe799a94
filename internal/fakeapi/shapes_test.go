package fakeapi

import (
	"testing"
	"time"
)

// TestLimiterShapes checks the rate limiters of other shapes than the
// token bucket, step by step on a fake clock: the status and Retry-After
// of each request.
func TestLimiterShapes(t *testing.T) {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	type step struct {
		advance    time.Duration
		wantStatus int
		wantRetry  string
	}
	ms := time.Millisecond
	tests := map[string]struct {
		cfg   Config
		steps []step
	}{
		// At 10/s with no burst, two requests 66 ms apart: the second is
		// refused, and does not count.
		"leaky bucket, no burst": {
			cfg: Config{RatePerSec: 10, Shape: ShapeGCRA},
			steps: []step{
				{0, 200, ""}, {66 * ms, 429, "1"}, {34 * ms, 200, ""}, {100 * ms, 200, ""},
				{50 * ms, 429, "1"}, {49 * ms, 429, "1"}, {ms, 200, ""},
			},
		},
		"gcra, burst 2": {
			cfg: Config{RatePerSec: 10, Burst: 2, Shape: ShapeGCRA},
			steps: []step{
				{0, 200, ""}, {0, 200, ""}, {0, 200, ""}, {0, 429, "1"},
				{100 * ms, 200, ""}, {0, 429, "1"}, {time.Second, 200, ""}, {0, 200, ""}, {0, 200, ""}, {0, 429, "1"},
			},
		},
		"gcra, no Retry-After": {
			cfg:   Config{RatePerSec: 1, Shape: ShapeGCRA, RetryAfter: RetryAfterNone},
			steps: []step{{0, 200, ""}, {500 * ms, 429, ""}, {500 * ms, 200, ""}},
		},
		// 3 requests in any second, refused ones counted: a client that
		// keeps asking keeps itself out.
		"sliding window counting refused requests": {
			cfg: Config{RatePerSec: 3, Shape: ShapeWindow},
			steps: []step{
				{0, 200, ""}, {100 * ms, 200, ""}, {100 * ms, 200, ""}, {100 * ms, 429, "1"},
				{750 * ms, 429, "1"}, // t=1.05: 0 left; 0.1, 0.2 and the refused 0.3 count
				{100 * ms, 429, "1"}, // t=1.15: 0.2, 0.3 and the refused 1.05 count
				{200 * ms, 200, ""},  // t=1.35: only 1.05 and 1.15, both refused, count
			},
		},
		"sliding window, 1.5 a second allows 1": {
			cfg:   Config{RatePerSec: 1.5, Shape: ShapeWindow},
			steps: []step{{0, 200, ""}, {500 * ms, 429, "1"}, {1500 * ms, 200, ""}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			clock := &fakeClock{t: start}
			cfg := tc.cfg
			cfg.Token, cfg.Credits, cfg.Now = token, Unlimited, clock.Now
			s := New(cfg)
			defer s.Close()
			for i, st := range tc.steps {
				clock.Add(st.advance)
				resp, body, err := post(t, nil, s.URL(), token, okForm())
				if err != nil {
					t.Fatal(err)
				}
				if resp.StatusCode != st.wantStatus {
					t.Errorf("step %d: status %d, want %d (%s)", i, resp.StatusCode, st.wantStatus, body)
				}
				if got := resp.Header.Get("Retry-After"); got != st.wantRetry {
					t.Errorf("step %d: Retry-After %q, want %q", i, got, st.wantRetry)
				}
			}
		})
	}
}

func TestParseShape(t *testing.T) {
	for in, want := range map[string]Shape{"": ShapeBucket, "bucket": ShapeBucket, "GCRA": ShapeGCRA, "leaky": ShapeGCRA, "window": ShapeWindow} {
		got, err := ParseShape(in)
		if err != nil || got != want {
			t.Errorf("ParseShape(%q) = %v, %v; want %v", in, got, err, want)
		}
		if in != "" && in != "leaky" && in != "GCRA" && got.String() != in {
			t.Errorf("%v.String() = %q, want %q", got, got.String(), in)
		}
	}
	if _, err := ParseShape("fixed"); err == nil {
		t.Error(`ParseShape("fixed") succeeded`)
	}
}
