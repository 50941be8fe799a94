package gallery

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/state"
)

// TestServerRefusesOtherHosts: a DNS-rebinding page reaches the gallery
// with its own name in Host; no route answers it, only the names of the
// address the gallery listens on.
func TestServerRefusesOtherHosts(t *testing.T) {
	dir := t.TempDir()
	in := state.Inputs{Prompt: "the secret prompt", Style: "flux-dev", AspectRatio: "16:9", Seed: 3}
	e := writeImage(t, dir, "images/hero.png", in, 64, 36)
	s := NewServer(dir, "site")
	s.Set(FromPlan(&planner.Plan{Changes: []planner.Change{
		{Addr: addrs.Addr{Name: "hero"}, Action: planner.NoOp, Inputs: in, Path: e.Path, Prior: &e, PriorAddr: addrs.MustParse("image.hero")},
	}}))
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	defer s.Shutdown(context.Background())
	_, port, err := net.SplitHostPort(ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	other := "1"
	if port == other {
		other = "2"
	}

	do := func(t *testing.T, path, host string) (int, string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+path, nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if path == "/events" && resp.StatusCode == 200 {
			return resp.StatusCode, "" // a stream: the status says enough
		}
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	routes := []string{"/", "/events", "/files/images/hero.png", "/thumbs/" + e.SHA256, "/nothing"}
	evil := []string{
		"evil.example:" + port,
		"evil.example",
		"localhost.evil.example:" + port,
		"127.0.0.1.nip.io:" + port,
		"localhost:" + other,
		"127.0.0.1:" + other,
		"127.0.0.1",
		"localhost",
		"10.0.0.1:" + port,
		"0.0.0.0:" + port,
		"[fe80::1%25lo]:" + port,
	}
	for _, route := range routes {
		for _, host := range evil {
			t.Run("refuse "+route+" "+host, func(t *testing.T) {
				code, body := do(t, route, host)
				if code != http.StatusMisdirectedRequest {
					t.Fatalf("GET %s with Host %q: %d, want 421", route, host, code)
				}
				if strings.Contains(body, "secret") || strings.Contains(body, "\x89PNG") {
					t.Errorf("GET %s with Host %q leaked %q", route, host, body)
				}
				if !strings.Contains(body, "another host") {
					t.Errorf("GET %s with Host %q: body %q does not say why", route, host, body)
				}
			})
		}
	}
	good := []string{"127.0.0.1:" + port, "localhost:" + port, "LocalHost:" + port, "[::1]:" + port}
	for _, host := range good {
		for _, route := range routes[:4] {
			t.Run("accept "+route+" "+host, func(t *testing.T) {
				if code, _ := do(t, route, host); code != http.StatusOK {
					t.Fatalf("GET %s with Host %q: %d, want 200", route, host, code)
				}
			})
		}
	}
}

// TestHostAllowed covers the addresses a test server cannot listen on.
func TestHostAllowed(t *testing.T) {
	lan := &net.TCPAddr{IP: net.ParseIP("192.168.1.5"), Port: 8080}
	loop := &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 8080}
	loop6 := &net.TCPAddr{IP: net.ParseIP("::1"), Port: 8080}
	port80 := &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 80}
	tests := map[string]struct {
		host  string
		local net.Addr
		allow []string
		want  bool
	}{
		"lan address":              {"192.168.1.5:8080", lan, nil, true},
		"lan, other port":          {"192.168.1.5:8081", lan, nil, false},
		"lan, localhost":           {"localhost:8080", lan, nil, false},
		"lan, loopback ip":         {"127.0.0.1:8080", lan, nil, false},
		"lan, a name":              {"mybox.lan:8080", lan, nil, false},
		"lan, a name allowed":      {"mybox.lan:8080", lan, []string{"MyBox.lan:8080"}, true},
		"lan, allowed, other port": {"mybox.lan:9090", lan, []string{"mybox.lan:8080"}, false},
		"lan, evil":                {"evil.example:8080", lan, []string{"mybox.lan:8080"}, false},
		"ipv6 loopback":            {"[::1]:8080", loop6, nil, true},
		"ipv6 loopback, localhost": {"localhost:8080", loop6, nil, true},
		"ipv6 loopback, 127":       {"127.0.0.1:8080", loop6, nil, true},
		"default port":             {"localhost", port80, nil, true},
		"default port, explicit":   {"localhost:80", port80, nil, true},
		"default port, evil":       {"evil.example", port80, nil, false},
		"no host":                  {"", loop, nil, false},
		"no local address":         {"localhost:8080", nil, nil, false},
		"not tcp":                  {"localhost:8080", &net.UnixAddr{Name: "/tmp/x", Net: "unix"}, nil, false},
		"trailing dot":             {"localhost.:8080", loop, nil, false},
		"ip with zone":             {"[::1%lo]:8080", loop6, nil, false},
		"mapped ipv4":              {"[::ffff:127.0.0.1]:8080", loop, nil, true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			s := NewServer(t.TempDir(), "x")
			for _, h := range tt.allow {
				s.AllowHost(h)
			}
			if got := s.hostAllowed(tt.host, tt.local); got != tt.want {
				t.Errorf("hostAllowed(%q, %v) = %v, want %v", tt.host, tt.local, got, tt.want)
			}
		})
	}
}
