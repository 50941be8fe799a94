package gallery

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/config"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/state"
)

func pngBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// writeImage writes a PNG under dir and returns its lockfile entry.
func writeImage(t testing.TB, dir, path string, in state.Inputs, w, h int) state.Entry {
	t.Helper()
	data := pngBytes(t, w, h)
	full := filepath.Join(dir, filepath.FromSlash(path))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, data, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return state.Entry{Inputs: in, Provider: "draft", Path: path, SHA256: hex.EncodeToString(sum[:]),
		Bytes: int64(len(data)), MediaType: "image/png", Width: w, Height: h}
}

func TestThumbnail(t *testing.T) {
	tests := map[string]struct {
		w, h         int
		wantW, wantH int
	}{
		"wide":       {640, 360, 320, 180},
		"tall":       {300, 600, 160, 320},
		"small kept": {64, 48, 64, 48},
		"thin":       {2000, 1, 320, 1},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			out, err := Thumbnail(pngBytes(t, tt.w, tt.h), ThumbSize, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			img, err := jpeg.Decode(bytes.NewReader(out))
			if err != nil {
				t.Fatalf("thumbnail is not a JPEG: %v", err)
			}
			if b := img.Bounds(); b.Dx() != tt.wantW || b.Dy() != tt.wantH {
				t.Errorf("thumbnail is %dx%d, want %dx%d", b.Dx(), b.Dy(), tt.wantW, tt.wantH)
			}
		})
	}
	if _, err := Thumbnail([]byte("GIF89a"), ThumbSize, Limits{}); err == nil {
		t.Error("Thumbnail of a GIF header succeeded, want an error")
	}
	if _, err := Thumbnail([]byte("\x89PNG\r\n\x1a\ntruncated"), ThumbSize, Limits{}); err == nil {
		t.Error("Thumbnail of a truncated PNG succeeded, want an error")
	}
}

func TestRenderEscapes(t *testing.T) {
	tests := map[string]struct {
		card    Card
		absent  []string
		present []string
	}{
		"script in prompt": {
			card:    Card{Addr: "image.x", Prompt: `<script>alert(1)</script> & "quotes"`, AspectRatio: "1:1"},
			absent:  []string{"<script>alert(1)"},
			present: []string{"&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;quotes&#34;"},
		},
		"attribute breakout in prompt": {
			card:   Card{Addr: "image.x", Prompt: `" onmouseover="alert(1)`, AspectRatio: "1:1", Thumb: "data:image/jpeg;base64,AAAA"},
			absent: []string{`" onmouseover="alert(1)`},
		},
		"javascript URL dropped": {
			card:   Card{Addr: "image.x", AspectRatio: "1:1", Thumb: "javascript:alert(1)", Full: "javascript:alert(2)"},
			absent: []string{"javascript:alert"},
		},
		"key with markup": {
			card:    Card{Addr: `image.icon["</code><b>"]`, AspectRatio: "16:9"},
			absent:  []string{"</code><b>"},
			present: []string{"aspect-ratio:16 / 9"},
		},
		"bad ratio falls back": {
			card:    Card{Addr: "image.x", AspectRatio: "1:1;background:url(x)"},
			absent:  []string{"aspect-ratio:1:1"},
			present: []string{"aspect-ratio:1 / 1"},
		},
		"data thumbnail kept": {
			card:    Card{Addr: "image.x", AspectRatio: "1:1", Thumb: "data:image/jpeg;base64,QUJD", Full: "images/a%20b.png"},
			present: []string{`src="data:image/jpeg;base64,QUJD"`, `data-full="images/a%20b.png"`},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Render(&b, &Page{Title: "t", Cards: []Card{tt.card}}); err != nil {
				t.Fatal(err)
			}
			html := b.String()
			for _, s := range tt.absent {
				if strings.Contains(html, s) {
					t.Errorf("page contains %q", s)
				}
			}
			for _, s := range tt.present {
				if !strings.Contains(html, s) {
					t.Errorf("page lacks %q", s)
				}
			}
		})
	}
}

func TestRenderSelfContained(t *testing.T) {
	var b bytes.Buffer
	if err := Render(&b, &Page{Title: "site", Cards: []Card{{Addr: "image.a", AspectRatio: "1:1"}}}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"http://", "https://", "<link", "src=\"//"} {
		if strings.Contains(b.String(), s) {
			t.Errorf("page refers to the network (%q); it must work offline", s)
		}
	}
}

func TestFromConfig(t *testing.T) {
	dir := t.TempDir()
	in := func(p string) state.Inputs {
		return state.Inputs{Prompt: p, Style: "flux-dev", AspectRatio: "1:1", Seed: 7}
	}
	lock := state.NewLock()
	lock.Images[addrs.MustParse("image.same")] = writeImage(t, dir, "images/same.png", in("same"), 8, 8)
	lock.Images[addrs.MustParse("image.changed")] = writeImage(t, dir, "images/changed.png", in("old prompt"), 8, 8)
	gone := writeImage(t, dir, "images/gone.png", in("gone"), 8, 8)
	os.Remove(filepath.Join(dir, "images/gone.png"))
	lock.Images[addrs.MustParse("image.gone")] = gone
	lock.Images[addrs.MustParse("image.moved")] = writeImage(t, dir, "images/moved.png", in("moved"), 8, 8)
	lock.Images[addrs.MustParse("image.random")] = writeImage(t, dir, "images/random.png", in("random"), 8, 8)
	img := func(name, prompt, path string, seed int64) config.Image {
		return config.Image{Addr: addrs.Addr{Name: name}, Prompt: prompt, Style: "flux-dev", AspectRatio: "1:1", Seed: seed, Path: path}
	}
	cfg := &config.Config{Images: []config.Image{
		img("changed", "new prompt", "images/changed.png", 7),
		img("gone", "gone", "images/gone.png", 7),
		img("moved", "moved", "images/elsewhere.png", 7),
		img("new", "new", "images/new.png", 0),
		img("random", "random", "images/random.png", 0),
		img("same", "same", "images/same.png", 7),
	}}
	want := map[string]State{
		"image.changed": OutOfDate, "image.gone": OutOfDate, "image.moved": OutOfDate,
		"image.new": NotRendered, "image.random": UpToDate, "image.same": UpToDate,
	}
	cards := FromConfig(dir, cfg, lock)
	if len(cards) != len(want) {
		t.Fatalf("got %d cards, want %d", len(cards), len(want))
	}
	for _, c := range cards {
		if c.State != want[c.Addr] {
			t.Errorf("%s: state %s (%s), want %s", c.Addr, c.State, c.Reason, want[c.Addr])
		}
	}
	if n := Embed(dir, "", cards, Limits{}); n != 4 {
		t.Errorf("Embed made %d thumbnails, want 4 (same, changed, moved, random)", n)
	}

	t.Run("without configuration", func(t *testing.T) {
		cards := FromConfig(dir, nil, lock)
		if len(cards) != len(lock.Images) {
			t.Fatalf("got %d cards, want one per lockfile entry (%d)", len(cards), len(lock.Images))
		}
		for _, c := range cards {
			wantState := Recorded
			if c.Addr == "image.gone" {
				wantState = OutOfDate
			}
			if c.State != wantState {
				t.Errorf("%s: state %s, want %s", c.Addr, c.State, wantState)
			}
		}
	})
}

func TestSortKey(t *testing.T) {
	addrList := []addrs.Addr{{Name: "a"}, {Name: "a", Kind: addrs.StringKey, Key: "x"}, {Name: "b", Kind: addrs.IntKey, Index: 2}, {Name: "b", Kind: addrs.IntKey, Index: 10}, {Name: "c"}}
	for i := 1; i < len(addrList); i++ {
		if !(sortKey(addrList[i-1]) < sortKey(addrList[i])) {
			t.Errorf("sortKey(%s) !< sortKey(%s)", addrList[i-1], addrList[i])
		}
	}
}

func TestRelURL(t *testing.T) {
	tests := map[string]struct{ pageDir, path, want string }{
		"same dir":  {"", "images/hero.png", "images/hero.png"},
		"subdir":    {"docs", "images/hero.png", "../images/hero.png"},
		"escaped":   {"", "images/a b#1.png", "images/a%20b%231.png"},
		"nested up": {"a/b", "x.png", "../../x.png"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := relURL(tt.pageDir, tt.path); got != tt.want {
				t.Errorf("relURL(%q, %q) = %q, want %q", tt.pageDir, tt.path, got, tt.want)
			}
		})
	}
}

// sse reads server-sent events from a stream.
type sse struct{ r *bufio.Reader }

func (s sse) next(t *testing.T) (event string, data string) {
	t.Helper()
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			t.Fatalf("event stream ended: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		case line == "" && event != "":
			return event, data
		}
	}
}

func TestServer(t *testing.T) {
	dir := t.TempDir()
	in := state.Inputs{Prompt: "hero <b>", Style: "flux-dev", AspectRatio: "16:9", Seed: 3}
	e := writeImage(t, dir, "images/hero.png", in, 64, 36)
	if err := os.WriteFile(filepath.Join(dir, "secret.txt"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := NewServer(dir, "site")
	hero := addrs.Addr{Name: "hero"}
	s.Set(FromPlan(&planner.Plan{Changes: []planner.Change{
		{Addr: hero, Action: planner.NoOp, Inputs: in, Path: e.Path, Prior: &e, PriorAddr: addrs.MustParse("image.hero")},
		{Addr: addrs.Addr{Name: "icon"}, Action: planner.Create, Reasons: []string{"not yet rendered"}, Inputs: in, Path: "images/icon.png"},
	}}))
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	defer s.Shutdown(context.Background())

	get := func(path string) (int, string, []byte) {
		t.Helper()
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), b
	}
	tests := map[string]struct {
		path       string
		wantStatus int
		wantType   string
	}{
		"page":              {"/", 200, "text/html; charset=utf-8"},
		"recorded file":     {"/files/images/hero.png", 200, "image/png"},
		"thumbnail":         {"/thumbs/" + e.SHA256, 200, "image/jpeg"},
		"unknown thumbnail": {"/thumbs/" + strings.Repeat("0", 64), 404, ""},
		"other file":        {"/files/secret.txt", 404, ""},
		"escape":            {"/files/../secret.txt", 404, ""},
		"encoded escape":    {"/files/images%2f..%2f..%2fsecret.txt", 404, ""},
		"not yet rendered":  {"/files/images/icon.png", 404, ""},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			code, typ, body := get(tt.path)
			if code != tt.wantStatus {
				t.Fatalf("GET %s: %d, want %d", tt.path, code, tt.wantStatus)
			}
			if tt.wantType != "" && typ != tt.wantType {
				t.Errorf("GET %s: Content-Type %q, want %q", tt.path, typ, tt.wantType)
			}
			if strings.Contains(string(body), "secret") && !strings.Contains(string(body), "<html") {
				t.Errorf("GET %s served the secret file", tt.path)
			}
		})
	}

	t.Run("events", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/events", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
			t.Fatalf("Content-Type %q", ct)
		}
		st := sse{bufio.NewReader(resp.Body)}
		// Snapshot: both cards, then the status.
		var got []Card
		for {
			ev, data := st.next(t)
			if ev == "status" {
				break
			}
			var c Card
			if err := json.Unmarshal([]byte(data), &c); err != nil {
				t.Fatal(err)
			}
			got = append(got, c)
		}
		if len(got) != 2 || got[0].Addr != "image.hero" || got[0].State != UpToDate || got[1].State != Queued {
			t.Fatalf("snapshot = %+v", got)
		}
		if got[0].Thumb != "/thumbs/"+e.SHA256 || got[0].Prompt != "hero <b>" {
			t.Errorf("hero card = %+v", got[0])
		}
		// An image lands: the hooks update the card.
		icon := writeImage(t, dir, "images/icon.png", in, 64, 36)
		ch := planner.Change{Addr: addrs.Addr{Name: "icon"}, Action: planner.Create}
		s.Hooks().Started(&ch, 1)
		ev, data := st.next(t)
		if ev != "card" || !strings.Contains(data, `"state":"rendering"`) {
			t.Fatalf("after Started: %s %s", ev, data)
		}
		s.Hooks().Completed(&ch, icon, 0)
		ev, data = st.next(t)
		var c Card
		json.Unmarshal([]byte(data), &c)
		if ev != "card" || c.State != UpToDate || c.Thumb != "/thumbs/"+icon.SHA256 {
			t.Fatalf("after Completed: %s %+v", ev, c)
		}
		if code, _, _ := get("/files/images/icon.png"); code != 200 {
			t.Errorf("the new file is not served: %d", code)
		}
		// A new plan without the icon removes it.
		s.Set(FromPlan(&planner.Plan{Changes: []planner.Change{
			{Addr: hero, Action: planner.NoOp, Inputs: in, Path: e.Path, Prior: &e},
		}}))
		ev, data = st.next(t)
		if ev != "remove" || !strings.Contains(data, "image.icon") {
			t.Fatalf("after Set: %s %s", ev, data)
		}
	})
}

func TestShutdownEndsStreams(t *testing.T) {
	s := NewServer(t.TempDir(), "x")
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	resp, err := http.Get(ts.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	s.Shutdown(context.Background())
	done := make(chan struct{})
	go func() { io.Copy(io.Discard, resp.Body); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the event stream stayed open after Shutdown")
	}
}
