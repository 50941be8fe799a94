package gallery

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/state"
)

// A card's file is served only while no symbolic link is on its way: a
// link that appears after the lockfile was checked is not followed.
func TestServerRefusesSymlinkedFiles(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	in := state.Inputs{Prompt: "hero", Style: "flux-dev", AspectRatio: "1:1", Seed: 3}
	e := writeImage(t, outside, "images/hero.png", in, 8, 8)
	if err := os.Symlink(filepath.Join(outside, "images"), filepath.Join(dir, "images")); err != nil {
		t.Skip("no symbolic links:", err)
	}
	s := NewServer(dir, "site")
	s.Set(FromPlan(&planner.Plan{Changes: []planner.Change{
		{Addr: addrs.Addr{Name: "hero"}, Action: planner.NoOp, Inputs: in, Path: e.Path, Prior: &e, PriorAddr: addrs.MustParse("image.hero")},
	}}))
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	defer s.Shutdown(context.Background())
	for _, p := range []string{"/files/images/hero.png", "/thumbs/" + e.SHA256} {
		req, err := http.NewRequest("GET", ts.URL+p, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s through a symbolic link: %d, want 404", p, resp.StatusCode)
		}
	}
}
