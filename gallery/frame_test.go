package gallery

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/state"
)

// No response of the live gallery may be shown in a frame of another
// site: a hostile page could trick a click on pick or approve in it. Every
// answer, refusals and errors too, forbids framing.
func TestServerForbidsFraming(t *testing.T) {
	dir := t.TempDir()
	in := state.Inputs{Prompt: "hero", Style: "flux-dev", AspectRatio: "16:9", Seed: 3}
	e := writeImage(t, dir, "images/hero.png", in, 64, 36)
	s := NewServer(dir, "site")
	s.SetActions(&fakeActions{})
	s.Set(FromPlan(&planner.Plan{Changes: []planner.Change{
		{Addr: addrs.Addr{Name: "hero"}, Action: planner.NoOp, Inputs: in, Path: e.Path, Prior: &e, PriorAddr: addrs.MustParse("image.hero")},
	}}))
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	defer s.Shutdown(context.Background())

	tests := map[string]struct {
		method, path, host string
		code               int
	}{
		"page":           {"GET", "/", "", 200},
		"file":           {"GET", "/files/images/hero.png", "", 200},
		"thumbnail":      {"GET", "/thumbs/" + e.SHA256, "", 200},
		"events":         {"GET", "/events", "", 200},
		"not found":      {"GET", "/thumbs/" + strings.Repeat("0", 64), "", 404},
		"unknown take":   {"GET", "/takes/" + strings.Repeat("0", 64), "", 404},
		"no route":       {"GET", "/nothing", "", 404},
		"action by GET":  {"GET", "/actions/pick", "", 405},
		"refused action": {"POST", "/actions/approve", "", 403},
		"other host":     {"GET", "/", "evil.example", 421},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, tc.method, ts.URL+tc.path, strings.NewReader("{}"))
			if tc.host != "" {
				req.Host = tc.host
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.code {
				t.Fatalf("%s %s: status %d, want %d", tc.method, tc.path, resp.StatusCode, tc.code)
			}
			if got := resp.Header.Get("X-Frame-Options"); got != "DENY" {
				t.Errorf("%s %s: X-Frame-Options %q, want DENY", tc.method, tc.path, got)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("%s %s: Content-Security-Policy %q has no frame-ancestors 'none'", tc.method, tc.path, csp)
			}
		})
	}
}
