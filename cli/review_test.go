package cli

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/state"
)

// TestWatchGalleryReviewBrowser drives the live gallery's review in
// headless Chromium: the takes of a candidates image show side by side, a
// click picks one and another approves it, each recorded in the lockfile
// as the CLI records it; a request without the page's secret is refused.
func TestWatchGalleryReviewBrowser(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	cfg := "image \"hero\" {\n  prompt     = \"a lighthouse\"\n  seed       = 5\n  candidates = 3\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "main.pix.hcl"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stop := watchGallery(dir)
	defer stop()
	url := waitOutput(t, out, regexp.MustCompile(`Gallery: (http://\S+)`))[1]
	waitOutput(t, out, regexp.MustCompile(`done in`))

	opts := append(chromedp.DefaultExecAllocatorOptions[:0:0],
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 860))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelCtx := chromedp.NewContext(actx)
	defer cancelCtx()
	ctx, cancelTimeout := context.WithTimeout(ctx, browserLimit)
	defer cancelTimeout()
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
	hero := addrs.MustParse("image.hero")
	entry := func() state.Entry {
		l, err := state.ReadLock(filepath.Join(dir, state.LockFileName))
		if err != nil {
			t.Fatal(err)
		}
		return l.Images[hero]
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	const takes = `Array.from(document.querySelectorAll('[data-addr="image.hero"] .take img')).filter(i => i.complete && i.naturalWidth > 0).length`
	waitJS(takes + ` === 3`)

	// A request without the secret, from the page itself, is refused.
	code, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch("actions/pick", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({addr: "image.hero", take: 2})}).then(r => r.status)`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if code != 403 || entry().Picked != 0 {
		t.Fatalf("a pick without the secret: status %d, picked %d", code, entry().Picked)
	}

	// An action on bytes other than the lockfile's is refused, and says
	// why: the page's take 2, say, became another take in a new render.
	secret, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('meta[name="pixform-secret"]').content`))
	if err != nil {
		t.Fatal(err)
	}
	act := func(kind, body string) (int, string) {
		t.Helper()
		type answer struct {
			Status int    `json:"status"`
			Error  string `json:"error"`
		}
		a, err := chromedp.Run(ctx, chromedp.Evaluate[answer](`fetch("actions/`+kind+`", {method: "POST", headers: {"Content-Type": "application/json", "X-Pixform-Secret": "`+secret+`"}, body: JSON.stringify(`+body+`)}).then(r => r.json().then(j => ({status: r.status, error: j.error || ""})))`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		return a.Status, a.Error
	}
	before := entry()
	if code, msg := act("pick", `{addr: "image.hero", take: 2, sha256: "`+before.Takes[2].SHA256+`"}`); code != 409 || !strings.Contains(msg, "changed since the page showed it") || entry().Picked != 0 {
		t.Fatalf("a pick of take 2 showing take 3's bytes: status %d %q, picked %d", code, msg, entry().Picked)
	}

	// Click "pick 2": take 2 is at the path and recorded as picked.
	if err := chromedp.Do(ctx, chromedp.Click(`[data-addr="image.hero"] .take[data-take="2"] button.pick`)); err != nil {
		t.Fatal(err)
	}
	waitJS(`(function () { var b = document.querySelector('[data-addr="image.hero"] .take[data-take="2"] button.pick'); return b && b.textContent === "picked"; })()`)
	e := entry()
	if e.Picked != 2 || e.SHA256 != e.Takes[1].SHA256 {
		t.Fatalf("after the click: picked %d", e.Picked)
	}
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	writeShot(t, "gallery-takes.png", shot)

	// An approval of the bytes the path held before the pick is refused.
	if code, msg := act("approve", `{addr: "image.hero", sha256: "`+before.SHA256+`"}`); code != 409 || !strings.Contains(msg, "changed since the page showed it") || entry().Approved != nil {
		t.Fatalf("an approval of the bytes before the pick: status %d %q, approved %+v", code, msg, entry().Approved)
	}

	// Click "approve": recorded as git config user.name.
	if err := chromedp.Do(ctx, chromedp.Click(`[data-addr="image.hero"] button.approve`)); err != nil {
		t.Fatal(err)
	}
	waitJS(`(function () { var s = document.querySelector('[data-addr="image.hero"] .review .ok'); return !!s && s.textContent === "approved by Tess Reviewer"; })()`)
	if a := entry().Approved; a == nil || a.By != "Tess Reviewer" || a.SHA256 != e.SHA256 {
		t.Fatalf("after the click: approved %+v", a)
	}
}
