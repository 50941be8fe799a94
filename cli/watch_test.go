package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pixform/pixform/draft"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// browserLimit bounds a browser test's session, and each wait for the
// watch's output. It is a hang guard, not a timing assertion: a session
// takes seconds, but under -race beside other packages' tests on two
// cores, Chromium's start and the first renders took over a minute.
const browserLimit = 3 * time.Minute

// waitOutput waits until re matches the buffer and returns the match.
func waitOutput(t *testing.T, buf *syncBuffer, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.Now().Add(browserLimit)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(buf.String()); m != nil {
			return m
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("output never matched %s:\n%s", re, buf.String())
	return nil
}

// chromium returns the browser for the gallery's browser test. Without one
// the test is skipped with a message that says how to install it, except
// in CI (CI=true), where a missing browser fails the test.
func chromium(t *testing.T) string {
	t.Helper()
	bin, missing := findChromium(exec.LookPath, os.Getenv("CI") == "true")
	if missing == nil {
		return bin
	}
	if missing.fail {
		t.Fatal(missing.msg)
	}
	t.Skip(missing.msg)
	return ""
}

// chromiumMissing says why the browser test cannot run, and whether that
// fails it.
type chromiumMissing struct {
	msg  string
	fail bool
}

// findChromium looks for a Chromium binary on PATH with lookPath.
func findChromium(lookPath func(string) (string, error), ci bool) (string, *chromiumMissing) {
	names := []string{"chromium", "chromium-browser", "google-chrome"}
	for _, name := range names {
		if p, err := lookPath(name); err == nil {
			return p, nil
		}
	}
	msg := fmt.Sprintf("Chromium was not found on PATH (looked for %s), so the gallery's browser test did not run; "+
		"install it to run it: apt-get install -y chromium (Debian, Ubuntu), brew install --cask chromium (macOS)", strings.Join(names, ", "))
	if ci {
		return "", &chromiumMissing{msg: msg + "; CI=true, where the browser test must run", fail: true}
	}
	return "", &chromiumMissing{msg: msg}
}

func TestFindChromium(t *testing.T) {
	none := func(string) (string, error) { return "", exec.ErrNotFound }
	for name, tc := range map[string]struct {
		lookPath func(string) (string, error)
		ci       bool
		wantBin  string
		wantFail bool
	}{
		"found":         {lookPath: func(n string) (string, error) { return "/usr/bin/" + n, nil }, wantBin: "/usr/bin/chromium"},
		"found in CI":   {lookPath: func(n string) (string, error) { return "/usr/bin/" + n, nil }, ci: true, wantBin: "/usr/bin/chromium"},
		"missing":       {lookPath: none},
		"missing in CI": {lookPath: none, ci: true, wantFail: true},
		"only the other": {lookPath: func(n string) (string, error) {
			if n == "google-chrome" {
				return "/opt/gc", nil
			}
			return "", exec.ErrNotFound
		}, wantBin: "/opt/gc"},
	} {
		t.Run(name, func(t *testing.T) {
			bin, missing := findChromium(tc.lookPath, tc.ci)
			if bin != tc.wantBin {
				t.Errorf("bin = %q, want %q", bin, tc.wantBin)
			}
			if tc.wantBin != "" {
				if missing != nil {
					t.Errorf("missing = %+v with a browser found", missing)
				}
				return
			}
			if missing == nil {
				t.Fatal("no reason given for a missing browser")
			}
			if missing.fail != tc.wantFail {
				t.Errorf("fail = %v, want %v", missing.fail, tc.wantFail)
			}
			for _, want := range []string{"Chromium was not found", "apt-get install -y chromium"} {
				if !strings.Contains(missing.msg, want) {
					t.Errorf("message %q does not say %q", missing.msg, want)
				}
			}
		})
	}
}

const galleryConfig = `image "hero" {
  prompt       = "a red fox in the snow <script>alert(1)</script>"
  aspect_ratio = "16:9"
  seed         = 1
}

image "icon" {
  for_each = { home = "a house", user = "a person" }
  prompt   = "flat icon of ${each.value}"
  seed     = 2
}
`

// TestWatchGalleryBrowser runs `pixform watch -serve` in-process and drives
// the live gallery in headless Chromium: the thumbnails show, a save adds a
// card without a reload, and a click opens the full image.
func TestWatchGalleryBrowser(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "main.pix.hcl")
	if err := os.WriteFile(cfgPath, []byte(galleryConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut := &syncBuffer{}, &syncBuffer{}
	stop := make(chan struct{})
	exited := make(chan int, 1)
	go func() {
		exited <- Main(context.Background(), []string{"-chdir=" + dir, "watch", "-provider=draft", "-serve=127.0.0.1:0"},
			Stdio{Out: out, Err: errOut, Stop: stop})
	}()
	stopped := false
	defer func() {
		if !stopped {
			close(stop)
			<-exited
		}
	}()
	url := waitOutput(t, out, regexp.MustCompile(`Gallery: (http://\S+)`))[1]
	waitOutput(t, out, regexp.MustCompile(`done in`))

	opts := append(chromedp.DefaultExecAllocatorOptions[:0:0],
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 860),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelCtx := chromedp.NewContext(actx)
	defer cancelCtx()
	ctx, cancelTimeout := context.WithTimeout(ctx, browserLimit)
	defer cancelTimeout()

	// loaded counts cards whose thumbnail has loaded.
	const loaded = `Array.from(document.querySelectorAll(".card img")).filter(i => i.complete && i.naturalWidth > 0).length`
	waitJS := func(expr string) {
		t.Helper()
		for {
			ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
			if err != nil {
				t.Fatalf("evaluate %s: %v", expr, err)
			}
			if ok {
				return
			}
			select {
			case <-ctx.Done():
				t.Fatalf("browser: %s never became true", expr)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("load %s: %v", url, err)
	}
	waitJS(loaded + ` === 3`)
	waitJS(`document.getElementById("live").textContent === "live"`)
	text, err := chromedp.Run(ctx, chromedp.Text(`[data-addr="image.hero"] .prompt`))
	if err != nil {
		t.Fatal(err)
	}
	if text != "a red fox in the snow <script>alert(1)</script>" {
		t.Errorf("hero's prompt shows as %q", text)
	}

	// A save adds an image: it appears without a reload.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__noReload = true`)); err != nil {
		t.Fatal(err)
	}
	more := galleryConfig + `
image "banner" {
  prompt       = "a wide banner of mountains"
  aspect_ratio = "3:2"
  seed         = 3
}
`
	if err := os.WriteFile(cfgPath, []byte(more), 0o644); err != nil {
		t.Fatal(err)
	}
	waitJS(loaded + ` === 4 && document.querySelector('[data-addr="image.banner"]').dataset.state === "up-to-date"`)
	waitJS(`window.__noReload === true`)
	order, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(".card")).map(c => c.dataset.addr)`))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(order) != `[image.banner image.hero image.icon["home"] image.icon["user"]]` {
		t.Errorf("cards in order %v, want address order", order)
	}
	// A live card's address wraps only after "image." and before a key, as
	// the static page's does.
	addr, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(function () {
		var a = document.querySelector('[data-addr="image.banner"] .addr');
		return a.title + "|" + Array.from(a.childNodes).map(n => n.nodeName + ":" + n.textContent).join(",");
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if addr != "image.banner|SPAN:image.,WBR:,SPAN:banner" {
		t.Errorf("the live card's address is %q", addr)
	}
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	writeShot(t, "gallery.png", shot)

	// A click shows the full image.
	if err := chromedp.Do(ctx, chromedp.Click(`[data-addr="image.hero"] button.thumb`)); err != nil {
		t.Fatal(err)
	}
	waitJS(`!document.getElementById("lightbox").hidden && document.querySelector("#lightbox img").naturalWidth === 1024`)
	if shot, err = chromedp.Run(ctx, chromedp.CaptureScreenshot()); err != nil {
		t.Fatal(err)
	}
	writeShot(t, "gallery-lightbox.png", shot)

	close(stop)
	stopped = true
	select {
	case code := <-exited:
		if code != ExitOK {
			t.Errorf("watch exited %d, want 0; stderr:\n%s", code, errOut.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("watch did not stop after Ctrl-C")
	}
}

// writeShot saves a screenshot where people can look at it: in
// $PIXFORM_SCREENSHOTS when set, else in the test's temporary directory.
func writeShot(t *testing.T, name string, png []byte) {
	dir := os.Getenv("PIXFORM_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Errorf("save screenshot: %v", err)
	}
}

func TestServeFlag(t *testing.T) {
	tests := map[string]struct {
		in      string
		want    string
		wantErr bool
	}{
		"bare flag":     {"true", defaultServe, false},
		"port only":     {":9000", "127.0.0.1:9000", false},
		"bare port":     {"9000", "127.0.0.1:9000", false},
		"host and port": {"0.0.0.0:8080", "0.0.0.0:8080", false},
		"ipv6":          {"[::1]:8080", "[::1]:8080", false},
		"not an addr":   {"localhost", "", true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			var f serveFlag
			err := f.Set(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Set(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if err == nil && (f.addr != tt.want || !f.set) {
				t.Errorf("Set(%q) = %q (set %v), want %q", tt.in, f.addr, f.set, tt.want)
			}
		})
	}
}

// A watch session renders every save's drafts with one renderer, whose
// canvas, compressor and glyphs stay warm between saves, rather than a
// new one each time.
func TestWatchProviderKeepsDraftRenderer(t *testing.T) {
	e := &env{}
	newProvider := e.watchProvider()
	p := &planner.Plan{Provider: providers.Draft}
	a, err := newProvider(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := newProvider(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := a.(*draft.Renderer); !ok {
		t.Fatalf("provider = %T, want *draft.Renderer", a)
	}
	if a != b {
		t.Error("the second save got a new draft renderer")
	}
}
