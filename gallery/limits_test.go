package gallery

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"crypto/sha256"
	"encoding/hex"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/internal/fakeapi"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/state"
)

// writeBytes writes data at path under dir and returns its lockfile entry.
func writeBytes(t *testing.T, dir, path string, data []byte, w, h int) state.Entry {
	t.Helper()
	full := filepath.Join(dir, filepath.FromSlash(path))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, data, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return state.Entry{Provider: "imagine", Path: path, SHA256: hex.EncodeToString(sum[:]),
		Bytes: int64(len(data)), MediaType: "image/png", Width: w, Height: h}
}

// A bomb (a small file declaring huge dimensions) and an image over the
// configured cap are refused from their headers, before any pixel is
// decoded.
func TestThumbnailLimits(t *testing.T) {
	tests := map[string]struct {
		data   []byte
		lim    Limits
		wantIn string // "" means accepted
	}{
		"bomb over the default cap": {fakeapi.BombPNG(40000, 40000), Limits{}, "40000×40000 pixels, more than the 16777216"},
		"just over the default cap": {fakeapi.BombPNG(4097, 4096), Limits{}, "4097×4096 pixels"},
		"over a configured cap":     {pngBytes(t, 20, 20), Limits{MaxPixels: 399}, "20×20 pixels, more than the 399"},
		"at a configured cap":       {pngBytes(t, 20, 20), Limits{MaxPixels: 400}, ""},
		"over the byte cap":         {pngBytes(t, 64, 64), Limits{MaxBytes: 100}, "more than the 100 bytes"},
		"cap raised past the limit": {fakeapi.BombPNG(20000, 20000), Limits{MaxPixels: 1 << 40}, "more than the 268435456"},
		"zero dimensions":           {fakeapi.BombPNG(0, 10), Limits{}, "not a PNG or JPEG"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Thumbnail(tt.data, ThumbSize, tt.lim)
			if tt.wantIn == "" {
				if err != nil {
					t.Fatalf("Thumbnail: %v, want a thumbnail", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantIn) {
				t.Fatalf("Thumbnail: %v, want an error containing %q", err, tt.wantIn)
			}
			if strings.Contains(tt.wantIn, "more than") {
				var tl *TooLargeError
				if !errors.As(err, &tl) {
					t.Errorf("Thumbnail: %T, want a *TooLargeError", err)
				}
			}
		})
	}
}

// Embed gives a refused image a card saying why, and goes on with the
// others.
func TestEmbedRefusesBomb(t *testing.T) {
	dir := t.TempDir()
	in := state.Inputs{Prompt: "p", Style: "flux-dev", AspectRatio: "1:1"}
	good := writeImage(t, dir, "images/good.png", in, 40, 40)
	bomb := writeBytes(t, dir, "images/bomb.png", fakeapi.BombPNG(40000, 40000), 1024, 1024)
	big := writeBytes(t, dir, "images/big.png", pngBytes(t, 64, 64), 64, 64)
	cards := []Card{
		{Addr: "image.bomb", File: &bomb},
		{Addr: "image.good", File: &good},
		{Addr: "image.big", File: &big},
	}
	n := Embed(dir, ".", cards[:2], Limits{})
	n += Embed(dir, ".", cards[2:], Limits{MaxBytes: big.Bytes - 1})
	if n != 1 {
		t.Errorf("Embed made %d thumbnails, want 1", n)
	}
	if c := cards[0]; c.Thumb != "" || c.Full != "" || !strings.Contains(c.Reason, "images/bomb.png is 40000×40000 pixels") {
		t.Errorf("bomb card: thumb %.20q full %q reason %q, want no thumbnail and a reason naming its size", c.Thumb, c.Full, c.Reason)
	}
	if c := cards[1]; !strings.HasPrefix(c.Thumb, "data:image/jpeg;base64,") || c.Reason != "" {
		t.Errorf("good card: thumb %.30q reason %q, want a thumbnail", c.Thumb, c.Reason)
	}
	if c := cards[2]; c.Thumb != "" || !strings.Contains(c.Reason, "images/big.png is more than the") {
		t.Errorf("big card: thumb %.20q reason %q, want no thumbnail and a reason naming the byte cap", c.Thumb, c.Reason)
	}
}

// The live /thumbs/ handler refuses a bomb from its header and turns its
// card into a placeholder that says why.
func TestServerRefusesBomb(t *testing.T) {
	dir := t.TempDir()
	in := state.Inputs{Prompt: "p", Style: "flux-dev", AspectRatio: "1:1", Seed: 3}
	e := writeBytes(t, dir, "images/bomb.png", fakeapi.BombPNG(40000, 40000), 1024, 1024)
	e.Inputs = in
	s := NewServer(dir, "site")
	s.Set(FromPlan(&planner.Plan{Changes: []planner.Change{
		{Addr: addrs.Addr{Name: "bomb"}, Action: planner.NoOp, Inputs: in, Path: e.Path, Prior: &e, PriorAddr: addrs.MustParse("image.bomb")},
	}}))
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	defer s.Shutdown(context.Background())

	if got := s.Cards(); len(got) != 1 || got[0].Thumb != "/thumbs/"+e.SHA256 {
		t.Fatalf("cards before: %+v, want one with its thumbnail URL", got)
	}
	resp, err := http.Get(ts.URL + "/thumbs/" + e.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(body), "40000×40000") {
		t.Errorf("GET /thumbs/: %d %q, want 422 naming the size", resp.StatusCode, body)
	}
	got := s.Cards()
	if len(got) != 1 || got[0].Thumb != "" || got[0].Full != "" || !strings.Contains(got[0].Reason, "40000×40000 pixels") {
		t.Fatalf("cards after: %+v, want a placeholder saying why", got)
	}
	// The refusal stays through later updates, once.
	s.Update("image.bomb", func(c *Card) {})
	if c := s.Cards()[0]; c.Thumb != "" || strings.Count(c.Reason, "40000×40000") != 1 {
		t.Errorf("after Update: thumb %q reason %q, want the refusal once", c.Thumb, c.Reason)
	}
}
