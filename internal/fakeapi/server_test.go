package fakeapi

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	_ "image/jpeg" // decode the fake's JPEGs in tests
	"image/png"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

const token = "test-token"

// form is the request's fields; a nil value leaves the field out.
type form map[string]string

func okForm() form {
	return form{"prompt": "a lighthouse", "style": "imagine-turbo", "aspect_ratio": "16:9", "seed": "7"}
}

func post(t *testing.T, client *http.Client, url, bearer string, f form) (*http.Response, []byte, error) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range f {
		mw.WriteField(k, v)
	}
	mw.Close()
	req, err := http.NewRequest(http.MethodPost, url, &buf)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

// vendorBody decodes an error body, checking it has the vendor's schema.
func vendorBody(t *testing.T, body []byte) (code string, raw map[string]any) {
	t.Helper()
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatalf("error body %q is not JSON: %v", body, err)
	}
	for _, k := range []string{"status", "code", "error", "message"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("error body %s lacks %q", body, k)
		}
	}
	if raw["status"] != "error" {
		t.Errorf("status = %v", raw["status"])
	}
	switch c := raw["code"].(type) {
	case string:
		return c, raw
	case float64:
		return strconv.Itoa(int(c)), raw
	}
	t.Fatalf("code %v is neither string nor number", raw["code"])
	return "", nil
}

func TestErrorAnswers(t *testing.T) {
	without := func(k string) form { f := okForm(); delete(f, k); return f }
	with := func(k, v string) form { f := okForm(); f[k] = v; return f }
	tests := map[string]struct {
		cfg        Config
		bearer     string
		form       form
		wantStatus int
		wantCode   string
		numeric    bool
	}{
		"missing token":        {bearer: "", form: okForm(), wantStatus: 400, wantCode: "1000"},
		"wrong token":          {bearer: "nope", form: okForm(), wantStatus: 401, wantCode: "1001"},
		"expired prefix":       {bearer: "expired:abc", form: okForm(), wantStatus: 406, wantCode: "1002"},
		"expired list":         {cfg: Config{ExpiredTokens: []string{"old"}}, bearer: "old", form: okForm(), wantStatus: 406, wantCode: "1002"},
		"missing prompt":       {form: without("prompt"), wantStatus: 400, wantCode: "1100"},
		"blank prompt":         {form: with("prompt", "  "), wantStatus: 400, wantCode: "1100"},
		"missing style":        {form: without("style"), wantStatus: 400, wantCode: "1100"},
		"unknown style":        {form: with("style", "cubism"), wantStatus: 400, wantCode: "1100"},
		"bad aspect ratio":     {form: with("aspect_ratio", "5:4"), wantStatus: 400, wantCode: "1100"},
		"seed not a number":    {form: with("seed", "abc"), wantStatus: 400, wantCode: "1100"},
		"seed zero":            {form: with("seed", "0"), wantStatus: 400, wantCode: "1100"},
		"seed too big":         {form: with("seed", "4294967296"), wantStatus: 400, wantCode: "1100"},
		"no credits":           {cfg: Config{Credits: 0}, form: okForm(), wantStatus: 402, wantCode: "1101"},
		"code as number":       {cfg: Config{CodeAsNumber: true}, bearer: "nope", form: okForm(), wantStatus: 401, wantCode: "1001", numeric: true},
		"scripted 503/1200":    {cfg: Config{Faults: []Fault{Fault503ServiceDown}}, form: okForm(), wantStatus: 503, wantCode: "1200"},
		"scripted 503/1201":    {cfg: Config{Faults: []Fault{Fault503Redis}}, form: okForm(), wantStatus: 503, wantCode: "1201"},
		"scripted 503/1203":    {cfg: Config{Faults: []Fault{Fault503Database}}, form: okForm(), wantStatus: 503, wantCode: "1203"},
		"scripted 504/1204":    {cfg: Config{Faults: []Fault{Fault504Timeout}}, form: okForm(), wantStatus: 504, wantCode: "1204"},
		"scripted 500/1205":    {cfg: Config{Faults: []Fault{Fault500Unexpected}}, form: okForm(), wantStatus: 500, wantCode: "1205"},
		"scripted 500/1300":    {cfg: Config{Faults: []Fault{Fault500Internal}}, form: okForm(), wantStatus: 500, wantCode: "1300"},
		"scripted 503/1206":    {cfg: Config{Faults: []Fault{Fault503Unsupported}}, form: okForm(), wantStatus: 503, wantCode: "1206"},
		"scripted 429/1202":    {cfg: Config{Faults: []Fault{Fault429}}, form: okForm(), wantStatus: 429, wantCode: "1202"},
		"scripted 400/1100":    {cfg: Config{Faults: []Fault{Fault400Invalid}}, form: okForm(), wantStatus: 400, wantCode: "1100"},
		"scripted 402/1101":    {cfg: Config{Faults: []Fault{Fault402Credits}}, form: okForm(), wantStatus: 402, wantCode: "1101"},
		"scripted 401/1001":    {cfg: Config{Faults: []Fault{Fault401Token}}, form: okForm(), wantStatus: 401, wantCode: "1001"},
		"prompt fault 1100":    {form: with("prompt", "x [fault:1100]"), wantStatus: 400, wantCode: "1100"},
		"prompt fault 504":     {form: with("prompt", "x [fault:504]"), wantStatus: 504, wantCode: "1204"},
		"prompt fault 1206":    {form: with("prompt", "x [fault:1206]"), wantStatus: 503, wantCode: "1206"},
		"prompt fault 429 num": {cfg: Config{CodeAsNumber: true}, form: with("prompt", "[fault:429]"), wantStatus: 429, wantCode: "1202", numeric: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Token = token
			if name != "no credits" {
				cfg.Credits = Unlimited
			}
			bearer := tc.bearer
			if bearer == "" && name != "missing token" {
				bearer = token
			}
			s := New(cfg)
			defer s.Close()
			resp, body, err := post(t, nil, s.URL(), bearer, tc.form)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status = %d, want %d (%s)", resp.StatusCode, tc.wantStatus, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			code, raw := vendorBody(t, body)
			if code != tc.wantCode {
				t.Errorf("code = %s, want %s", code, tc.wantCode)
			}
			if _, isNum := raw["code"].(float64); isNum != tc.numeric {
				t.Errorf("code %v: numeric = %v, want %v", raw["code"], isNum, tc.numeric)
			}
			st := s.Stats()
			if st.Requests != 1 || st.ByStatus[tc.wantStatus] != 1 || st.Successes != 0 {
				t.Errorf("stats = %+v", st)
			}
		})
	}
}

func TestSuccessImages(t *testing.T) {
	tests := map[string]struct {
		cfg        Config
		form       form
		wantW      int
		wantH      int
		wantType   string
		wantFormat string
	}{
		"16:9 png":        {form: okForm(), wantW: 114, wantH: 64, wantType: "image/png", wantFormat: "png"},
		"1:1 default":     {form: form{"prompt": "p", "style": "anime"}, wantW: 64, wantH: 64, wantType: "image/png", wantFormat: "png"},
		"9:16":            {form: form{"prompt": "p", "style": "anime", "aspect_ratio": "9:16"}, wantW: 64, wantH: 114, wantType: "image/png", wantFormat: "png"},
		"3:2":             {form: form{"prompt": "p", "style": "anime", "aspect_ratio": "3:2"}, wantW: 96, wantH: 64, wantType: "image/png", wantFormat: "png"},
		"3:4":             {form: form{"prompt": "p", "style": "anime", "aspect_ratio": "3:4"}, wantW: 64, wantH: 85, wantType: "image/png", wantFormat: "png"},
		"jpeg option":     {cfg: Config{JPEG: true}, form: okForm(), wantW: 114, wantH: 64, wantType: "image/jpeg", wantFormat: "jpeg"},
		"jpeg prompt tag": {form: form{"prompt": "p [format:jpeg]", "style": "anime", "aspect_ratio": "4:3"}, wantW: 85, wantH: 64, wantType: "image/jpeg", wantFormat: "jpeg"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Token, cfg.Credits = token, Unlimited
			s := New(cfg)
			defer s.Close()
			var first []byte
			for range 2 {
				resp, body, err := post(t, nil, s.URL(), token, tc.form)
				if err != nil || resp.StatusCode != 200 {
					t.Fatalf("post: %v %v %s", err, resp.StatusCode, body)
				}
				if ct := resp.Header.Get("Content-Type"); ct != tc.wantType {
					t.Errorf("Content-Type = %q, want %q", ct, tc.wantType)
				}
				if cl := resp.Header.Get("Content-Length"); cl != strconv.Itoa(len(body)) {
					t.Errorf("Content-Length = %s for %d bytes", cl, len(body))
				}
				img, format, err := image.Decode(bytes.NewReader(body))
				if err != nil {
					t.Fatalf("decode: %v", err)
				}
				if format != tc.wantFormat || img.Bounds().Dx() != tc.wantW || img.Bounds().Dy() != tc.wantH {
					t.Errorf("got %s %v, want %s %dx%d", format, img.Bounds(), tc.wantFormat, tc.wantW, tc.wantH)
				}
				if first != nil && !bytes.Equal(first, body) {
					t.Error("same request gave different images")
				}
				first = body
			}
			if st := s.Stats(); st.Successes != 2 || st.Requests != 2 {
				t.Errorf("stats = %+v", st)
			}
		})
	}
}

func TestImagesDifferBySeed(t *testing.T) {
	a, _, _ := renderImage("p", "anime", "1:1", 1, false)
	b, _, _ := renderImage("p", "anime", "1:1", 2, false)
	if bytes.Equal(a, b) {
		t.Error("different seeds gave the same image")
	}
	if _, err := png.Decode(bytes.NewReader(a)); err != nil {
		t.Error(err)
	}
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestTokenBucket(t *testing.T) {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	type step struct {
		advance    time.Duration
		wantStatus int
		wantRetry  string
	}
	tests := map[string]struct {
		cfg   Config
		steps []step
	}{
		"burst then empty then refill, seconds": {
			cfg: Config{RatePerSec: 0.5, Burst: 2},
			steps: []step{
				{0, 200, ""}, {0, 200, ""}, {0, 429, "2"}, {time.Second, 429, "1"},
				{time.Second, 200, ""}, {0, 429, "2"}, {10 * time.Second, 200, ""}, {0, 200, ""}, {0, 429, "2"},
			},
		},
		"http date": {
			cfg:   Config{RatePerSec: 1, Burst: 1, RetryAfter: RetryAfterDate},
			steps: []step{{0, 200, ""}, {0, 429, start.Add(time.Second).Format(http.TimeFormat)}},
		},
		"none": {
			cfg:   Config{RatePerSec: 1, RetryAfter: RetryAfterNone},
			steps: []step{{0, 200, ""}, {0, 429, ""}, {time.Second, 200, ""}},
		},
		"no limit": {
			cfg:   Config{},
			steps: []step{{0, 200, ""}, {0, 200, ""}, {0, 200, ""}, {0, 200, ""}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			clock := &fakeClock{t: start}
			cfg := tc.cfg
			cfg.Token, cfg.Credits, cfg.Now = token, Unlimited, clock.Now
			s := New(cfg)
			defer s.Close()
			throttled := 0
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
				if resp.StatusCode == 429 {
					throttled++
					if code, _ := vendorBody(t, body); code != "1202" {
						t.Errorf("step %d: code %s", i, code)
					}
				}
			}
			if got := s.Stats().Throttled; got != throttled {
				t.Errorf("Stats.Throttled = %d, want %d", got, throttled)
			}
		})
	}
}

func TestInFlightCap(t *testing.T) {
	s := New(Config{Token: token, Credits: Unlimited, MaxInFlight: 1})
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	held := make(chan error, 1)
	go func() {
		// A hanging request holds the only slot until cancelled.
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("prompt", "hold [fault:hang]")
		mw.WriteField("style", "anime")
		mw.Close()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL(), &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+token)
		_, err := http.DefaultClient.Do(req)
		held <- err
	}()
	for s.Stats().Attempts["hold [fault:hang]"] == 0 {
		time.Sleep(time.Millisecond)
	}
	resp, body, err := post(t, nil, s.URL(), token, okForm())
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("second request: %d %q %s, want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	cancel()
	if err := <-held; err == nil {
		t.Error("hanging request answered")
	}
	// The slot is free again once the hang ends.
	for {
		resp, _, err = post(t, nil, s.URL(), token, okForm())
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode == 200 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if st := s.Stats(); st.MaxInFlightSeen != 2 || st.Throttled < 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestCredits(t *testing.T) {
	tests := map[string]struct {
		credits    int
		styles     []string
		wantStatus []int
		wantLeft   int
		wantSpent  int
	}{
		"spend down":   {credits: 21, styles: []string{"flux-dev", "anime", "imagine-turbo", "imagine-turbo"}, wantStatus: []int{200, 200, 200, 402}, wantLeft: 0, wantSpent: 21},
		"too poor":     {credits: 14, styles: []string{"flux-dev", "flux-schnell"}, wantStatus: []int{402, 200}, wantLeft: 9, wantSpent: 5},
		"unlimited":    {credits: Unlimited, styles: []string{"flux-dev", "flux-dev", "sdxl-1.0"}, wantStatus: []int{200, 200, 200}, wantLeft: Unlimited, wantSpent: 35},
		"each style":   {credits: 1000, styles: []string{"imagine-turbo", "realistic", "anime", "flux-schnell", "flux-dev-fast", "flux-dev", "sdxl-1.0"}, wantStatus: []int{200, 200, 200, 200, 200, 200, 200}, wantLeft: 1000 - 41, wantSpent: 41},
		"none at all":  {credits: 0, styles: []string{"imagine-turbo"}, wantStatus: []int{402}, wantLeft: 0},
		"exact amount": {credits: 15, styles: []string{"flux-dev", "imagine-turbo"}, wantStatus: []int{200, 402}, wantLeft: 0, wantSpent: 15},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := New(Config{Token: token, Credits: tc.credits})
			defer s.Close()
			for i, style := range tc.styles {
				resp, body, err := post(t, nil, s.URL(), token, form{"prompt": "p", "style": style})
				if err != nil {
					t.Fatal(err)
				}
				if resp.StatusCode != tc.wantStatus[i] {
					t.Errorf("%s: status %d, want %d (%s)", style, resp.StatusCode, tc.wantStatus[i], body)
				}
			}
			st := s.Stats()
			if st.CreditsLeft != tc.wantLeft || st.CreditsSpent != tc.wantSpent {
				t.Errorf("credits left %d spent %d, want %d and %d", st.CreditsLeft, st.CreditsSpent, tc.wantLeft, tc.wantSpent)
			}
		})
	}
}

func TestPromptFaults(t *testing.T) {
	const ok = 200
	const broken = -1 // the client sees a transport error
	tests := map[string]struct {
		prompt string
		want   []int
	}{
		"503x2":    {"a [fault:503x2] b", []int{503, 503, ok, ok}},
		"503 once": {"[fault:503]", []int{503, ok}},
		"1100":     {"[fault:1100]", []int{400, 400, 400}},
		"1300x*":   {"[fault:1300x*]", []int{500, 500, 500}},
		"truncate": {"[fault:truncate]", []int{broken, ok}},
		"hang":     {"[fault:hang]", []int{broken, ok}},
		"reset":    {"[fault:reset]", []int{broken, ok}},
		"json200":  {"[fault:json200]", []int{ok, ok}},
		"two tags": {"[fault:503] [fault:504x2]", []int{503, 504, ok}},
		"no tag":   {"plain [brackets]", []int{ok, ok}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := New(Config{Token: token, Credits: Unlimited})
			defer s.Close()
			// Only an attempt that must break waits briefly (a hang breaks
			// by the client's timeout); the others have time for a loaded
			// machine.
			short := &http.Client{Timeout: time.Second}
			patient := &http.Client{Timeout: 30 * time.Second}
			for i, want := range tc.want {
				client := patient
				if want == broken {
					client = short
				}
				resp, _, err := post(t, client, s.URL(), token, form{"prompt": tc.prompt, "style": "anime"})
				got := broken
				if err == nil {
					got = resp.StatusCode
				}
				if got != want {
					t.Errorf("attempt %d: got %d (%v), want %d", i+1, got, err, want)
				}
			}
			if n := s.Stats().Attempts[tc.prompt]; n != len(tc.want) {
				t.Errorf("Attempts = %d, want %d", n, len(tc.want))
			}
		})
	}
}

func TestParseTags(t *testing.T) {
	tests := map[string]struct {
		prompt   string
		attempts []bool // whether a fault covers attempts 1, 2, ...
		slow     time.Duration
		jpeg     bool
	}{
		"none":        {"just a prompt", []bool{false}, 0, false},
		"x2":          {"[fault:503x2]", []bool{true, true, false}, 0, false},
		"always":      {"[fault:1100]", []bool{true, true, true}, 0, false},
		"star":        {"[fault:504x*]", []bool{true, true, true}, 0, false},
		"slow":        {"[fault:slow=2s]", []bool{false}, 2 * time.Second, false},
		"slow twice":  {"[fault:slow=1s][fault:slow=500ms]", []bool{false}, 1500 * time.Millisecond, false},
		"bad slow":    {"[fault:slow=fast]", []bool{false}, 0, false},
		"unknown":     {"[fault:banana]", []bool{false}, 0, false},
		"bad count":   {"[fault:503x0]", []bool{false}, 0, false},
		"unknown 999": {"[fault:999]", []bool{false}, 0, false},
		"unclosed":    {"[fault:503", []bool{false}, 0, false},
		"jpeg":        {"[format:jpeg] [fault:hang]", []bool{true, false}, 0, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tags := parseTags(tc.prompt)
			for i, want := range tc.attempts {
				if _, got := tags.at(i + 1); got != want {
					t.Errorf("attempt %d covered = %v, want %v", i+1, got, want)
				}
			}
			if tags.slow != tc.slow || tags.jpeg != tc.jpeg {
				t.Errorf("slow %v jpeg %v, want %v %v", tags.slow, tags.jpeg, tc.slow, tc.jpeg)
			}
		})
	}
}

func TestServeAndStatsEndpoint(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, Config{Token: token, Credits: Unlimited}) }()
	base := "http://" + ln.Addr().String()
	resp, _, err := post(t, nil, base+"/v2/image/generations", token, okForm())
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("post: %v %v", err, resp)
	}
	r, err := http.Get(base + "/fakeapi/stats")
	if err != nil {
		t.Fatal(err)
	}
	var st Stats
	err = json.NewDecoder(r.Body).Decode(&st)
	r.Body.Close()
	if err != nil || st.Successes != 1 || len(st.Log) != 1 || st.Log[0].Prompt != "a lighthouse" {
		t.Errorf("stats %+v, %v", st, err)
	}
	cancel()
	if err := <-served; err != nil {
		t.Errorf("Serve = %v after cancel, want nil", err)
	}
}

func TestSetConfigAndInject(t *testing.T) {
	s := New(Config{Token: token, Credits: Unlimited})
	defer s.Close()
	s.Inject(Fault504Timeout)
	want := []int{504, 200}
	for i, w := range want {
		resp, _, err := post(t, nil, s.URL(), token, okForm())
		if err != nil || resp.StatusCode != w {
			t.Errorf("request %d: %v %v, want %d", i, err, resp, w)
		}
	}
	s.SetConfig(Config{Token: "other", Credits: Unlimited})
	if resp, _, _ := post(t, nil, s.URL(), token, okForm()); resp.StatusCode != 401 {
		t.Errorf("after SetConfig: %d, want 401", resp.StatusCode)
	}
	if st := s.Stats(); st.Requests != 3 {
		t.Errorf("stats not kept across SetConfig: %+v", st)
	}
	s.ResetStats()
	if st := s.Stats(); st.Requests != 0 || len(st.Log) != 0 {
		t.Errorf("after ResetStats: %+v", st)
	}
}

func TestImageIsTheGradient(t *testing.T) {
	for _, ar := range []string{"1:1", "16:9", "9:16", "4:1"} {
		data, ct, err := renderImage("p", "anime", ar, 7, false)
		if err != nil || ct != "image/png" {
			t.Fatalf("%s: %q, %v", ar, ct, err)
		}
		m, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", ar, err)
		}
		w, h := Size(ar)
		if b := m.Bounds(); b.Dx() != w || b.Dy() != h {
			t.Errorf("%s: %v, want %d×%d", ar, b, w, h)
		}
		again, _, _ := renderImage("p", "anime", ar, 7, false)
		if !bytes.Equal(data, again) {
			t.Errorf("%s: the same request gave other bytes", ar)
		}
		r0, g0, b0, _ := m.At(0, 0).RGBA()
		r1, g1, b1, _ := m.At(w-1, h-1).RGBA()
		if r0 == r1 && g0 == g1 && b0 == b1 {
			t.Errorf("%s: no gradient between the corners", ar)
		}
	}
}
