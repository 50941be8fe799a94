package gallery

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/pixform/pixform/state"
)

// fakeActions records the actions it is asked to carry out. Its image's
// bytes are shaA, its take 2's shaB; an action on other bytes is refused
// as the lockfile's writer refuses it.
type fakeActions struct {
	mu    sync.Mutex
	calls []string
}

var (
	shaA = strings.Repeat("a", 64)
	shaB = strings.Repeat("b", 64)
)

func (f *fakeActions) Pick(ctx context.Context, addr string, take int, sha string) (state.Entry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if take != 2 || sha != shaB {
		return state.Entry{}, fmt.Errorf("pick %s: %w", addr, ErrChanged)
	}
	f.calls = append(f.calls, "pick "+addr)
	return state.Entry{Path: "hero.png", Picked: take}, nil
}

func (f *fakeActions) Approve(ctx context.Context, addr string, sha string) (state.Entry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if sha != shaA {
		return state.Entry{}, fmt.Errorf("approve %s: %w", addr, ErrChanged)
	}
	f.calls = append(f.calls, "approve "+addr)
	return state.Entry{Path: "hero.png"}, nil
}

func (f *fakeActions) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// The gallery takes a pick or an approval only as a POST of JSON from its
// own page: with the session's secret, an Origin of its own address, not
// cross-site. Anything else changes nothing.
func TestActionsRefused(t *testing.T) {
	s := NewServer(t.TempDir(), "t")
	fa := &fakeActions{}
	s.SetActions(fa)
	s.Set([]Card{{Addr: "image.hero", Path: "hero.png"}})
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	page := get(t, ts.URL+"/")
	m := regexp.MustCompile(`<meta name="pixform-secret" content="([0-9a-f]{64})">`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the page embeds no secret:\n%s", page)
	}
	secret := m[1]
	origin := ts.URL
	var lastBody string
	post := func(path, secret, origin, ctype, site, body string) int {
		req, _ := http.NewRequest("POST", ts.URL+path, strings.NewReader(body))
		if secret != "" {
			req.Header.Set(SecretHeader, secret)
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if site != "" {
			req.Header.Set("Sec-Fetch-Site", site)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		lastBody = string(b)
		return resp.StatusCode
	}
	const js = "application/json"
	body := `{"addr": "image.hero", "take": 2, "sha256": "` + shaB + `"}`
	approve := `{"addr": "image.hero", "sha256": "` + shaA + `"}`
	refused := map[string]struct {
		path, secret, origin, ctype, site, body string
		code                                    int
	}{
		"no secret":      {"/actions/pick", "", origin, js, "", body, 403},
		"wrong secret":   {"/actions/pick", strings.Repeat("0", 64), origin, js, "", body, 403},
		"secret prefix":  {"/actions/approve", secret[:32], origin, js, "", body, 403},
		"no origin":      {"/actions/pick", secret, "", js, "", body, 403},
		"other origin":   {"/actions/pick", secret, "http://evil.example", js, "", body, 403},
		"cross-site":     {"/actions/pick", secret, origin, js, "cross-site", body, 403},
		"form post":      {"/actions/approve", secret, origin, "application/x-www-form-urlencoded", "", "addr=image.hero", 415},
		"unknown image":  {"/actions/approve", secret, origin, js, "", `{"addr": "image.other", "sha256": "` + shaA + `"}`, 404},
		"unknown field":  {"/actions/approve", secret, origin, js, "", `{"addr": "image.hero", "sha256": "` + shaA + `", "by": "x"}`, 400},
		"no take":        {"/actions/pick", secret, origin, js, "", `{"addr": "image.hero", "sha256": "` + shaB + `"}`, 409},
		"no sha256":      {"/actions/approve", secret, origin, js, "", `{"addr": "image.hero"}`, 400},
		"bad sha256":     {"/actions/approve", secret, origin, js, "", `{"addr": "image.hero", "sha256": "` + strings.ToUpper(shaA) + `"}`, 400},
		"pick unseen":    {"/actions/pick", secret, origin, js, "", `{"addr": "image.hero", "take": 2, "sha256": "` + shaA + `"}`, 409},
		"approve unseen": {"/actions/approve", secret, origin, js, "", `{"addr": "image.hero", "sha256": "` + shaB + `"}`, 409},
		"unknown action": {"/actions/delete", secret, origin, js, "", body, 404},
	}
	for name, tc := range refused {
		if code := post(tc.path, tc.secret, tc.origin, tc.ctype, tc.site, tc.body); code != tc.code {
			t.Errorf("%s: status %d, want %d", name, code, tc.code)
		}
	}
	// Nothing changes on GET.
	for _, p := range []string{"/actions/pick", "/actions/approve"} {
		resp, err := http.Get(ts.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET %s: status %d, want 405", p, resp.StatusCode)
		}
	}
	if n := fa.count(); n != 0 {
		t.Fatalf("%d actions carried out by refused requests: %v", n, fa.calls)
	}
	// The page shows why an action on bytes it no longer shows is refused.
	if code := post("/actions/approve", secret, origin, js, "", `{"addr": "image.hero", "sha256": "`+shaB+`"}`); code != 409 ||
		!strings.Contains(lastBody, "changed since the page showed it") {
		t.Errorf("approve of bytes not shown: %d %s", code, lastBody)
	}
	// The page's own request is carried out, and the card shows the entry.
	if code := post("/actions/pick", secret, origin, js, "same-origin", body); code != 200 {
		t.Fatalf("the page's pick: status %d", code)
	}
	if code := post("/actions/approve", secret, origin, js, "", approve); code != 200 {
		t.Fatalf("the page's approve: status %d", code)
	}
	if n := fa.count(); n != 2 {
		t.Fatalf("carried out %v", fa.calls)
	}
	// A server without actions has no secret and no action routes.
	plain := NewServer(t.TempDir(), "t")
	ts2 := httptest.NewServer(plain.Handler())
	defer ts2.Close()
	if strings.Contains(get(t, ts2.URL+"/"), `<meta name="pixform-secret"`) {
		t.Error("a gallery without actions embeds a secret")
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
