package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/gallery"
	"github.com/pixform/pixform/state"
)

// TestWatchGalleryPickReplans: a pick from the live gallery changes the
// image that another is made from; watch plans again, as after a save, and
// makes the derived image again from the picked take, so that the
// lockfile is whole (plan -check passes) without a save.
func TestWatchGalleryPickReplans(t *testing.T) {
	dir := t.TempDir()
	cfg := `image "pick" {
  prompt     = "a logo"
  seed       = 5
  candidates = 3
  path       = "logo.png"
}
image "pick_sm" {
  from   = image.pick
  resize = { width = 64 }
  path   = "logo-sm.png"
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.pix.hcl"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stop := watchGallery(dir)
	defer stop()
	url := waitOutput(t, out, regexp.MustCompile(`Gallery: (http://\S+)/`))[1]
	waitOutput(t, out, regexp.MustCompile(`done in`))

	resp, err := http.Get(url + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="pixform-secret" content="([0-9a-f]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("no secret on the page:\n%s", page)
	}
	lock := func() *state.Lock {
		l, err := state.ReadLock(filepath.Join(dir, state.LockFileName))
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	pick, small := addrs.MustParse("image.pick"), addrs.MustParse("image.pick_sm")
	before := lock().Images[small]
	body, _ := json.Marshal(map[string]any{"addr": "image.pick", "take": 3, "sha256": lock().Images[pick].Takes[2].SHA256})
	req, _ := http.NewRequest("POST", url+"/actions/pick", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", url)
	req.Header.Set(gallery.SecretHeader, string(m[1]))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("pick: %d %s", resp.StatusCode, got)
	}
	waitOutput(t, out, regexp.MustCompile(`picked take 3 of image\.pick in the gallery`))
	waitOutput(t, out, regexp.MustCompile(`change detected \(pixform\.lock\.json\): 1 to replace[^\n]*…\n.*done in`))
	l := lock()
	if l.Images[pick].Picked != 3 {
		t.Fatalf("picked %d, want 3", l.Images[pick].Picked)
	}
	after := l.Images[small]
	if after.SHA256 == before.SHA256 || after.Inputs.SourceSHA256 != l.Images[pick].SHA256 {
		t.Fatalf("image.pick_sm was not made again from the picked take: before %+v, after %+v, pick %s", before, after, l.Images[pick].SHA256)
	}
}

// watchGallery runs pixform watch of drafts in dir with a live gallery on
// a free port, as the reviewer Tess Reviewer, and returns its output and
// the stop that ends it and waits for it.
func watchGallery(dir string) (out *syncBuffer, stop func()) {
	out = &syncBuffer{}
	quit := make(chan struct{})
	exited := make(chan int, 1)
	environ := []string{"HOME=" + dir, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=user.name", "GIT_CONFIG_VALUE_0=Tess Reviewer", "PATH=" + os.Getenv("PATH")}
	go func() {
		exited <- Main(context.Background(), []string{"-chdir=" + dir, "watch", "-provider=draft", "-serve=127.0.0.1:0"},
			Stdio{Out: out, Err: &syncBuffer{}, Stop: quit, Environ: environ})
	}()
	return out, func() {
		close(quit)
		<-exited
	}
}
