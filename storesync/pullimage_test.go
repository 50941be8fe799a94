package storesync

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/state"
)

// pngOf is a whole 8×6 PNG whose pixels depend on i.
func pngOf(t testing.TB, i int) []byte {
	t.Helper()
	m := image.NewNRGBA(image.Rect(0, 0, 8, 6))
	for j := range m.Pix {
		m.Pix[j] = byte(j*7 + i)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngEntry is the lockfile's entry of data, a pngOf, at path.
func pngEntry(path string, data []byte) state.Entry {
	return state.Entry{Path: path, SHA256: sum(data), Bytes: int64(len(data)), MediaType: "image/png", Width: 8, Height: 6}
}

// TestPullChecksImage: a lockfile (from a pull request) names bytes by
// their sha256, which does not make them the image it describes: an
// object that is not a whole image, or not one of the media type and
// dimensions recorded, is refused, nothing is put at its path or left
// beside it, and the error names the path, what is wrong and what to do.
// The others are pulled.
func TestPullChecksImage(t *testing.T) {
	good := pngOf(t, 1)
	cut := good[:len(good)-5]
	for _, tc := range []struct {
		name string
		e    state.Entry
		data []byte
		want string
	}{
		{name: "not an image", data: []byte("not an image at all"), want: "not a whole image"},
		{name: "a cut image", data: cut, want: "not a whole image"},
		{name: "other dimensions", data: good, e: state.Entry{Width: 16, Height: 9}, want: "16×9"},
		{name: "other media type", data: good, e: state.Entry{MediaType: "image/jpeg"}, want: "image/jpeg"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			r := newFake()
			e := pngEntry("d/bad.png", tc.data)
			if tc.e.Width != 0 {
				e.Width, e.Height = tc.e.Width, tc.e.Height
			}
			if tc.e.MediaType != "" {
				e.MediaType = tc.e.MediaType
			}
			r.objects[e.SHA256] = tc.data
			ok := pngOf(t, 2)
			r.objects[sum(ok)] = ok
			lock := state.NewLock()
			lock.Images[addrs.MustParse("image.bad")] = e
			lock.Images[addrs.MustParse("image.ok")] = pngEntry("d/ok.png", ok)
			s, err := New(dir, r, 1) // image.bad first: it must not stop image.ok
			if err != nil {
				t.Fatal(err)
			}
			rep, err := s.Pull(context.Background(), localStore(t, dir), lock, nil, nil)
			if rep.Done != 1 || rep.Failed != 1 {
				t.Errorf("Pull's report %+v, want one done and one failed", rep)
			}
			if err == nil {
				t.Fatal("Pull: no error")
			}
			for _, want := range []string{"d/bad.png", tc.want, state.LockFileName} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Pull's error %q does not say %q", err, want)
				}
			}
			if _, serr := os.Lstat(filepath.Join(dir, "d", "bad.png")); !errors.Is(serr, os.ErrNotExist) {
				t.Errorf("something is at d/bad.png: %v", serr)
			}
			if b, err := os.ReadFile(filepath.Join(dir, "d", "ok.png")); err != nil || !bytes.Equal(b, ok) {
				t.Errorf("d/ok.png: %v", err)
			}
			des, _ := os.ReadDir(filepath.Join(dir, "d"))
			for _, de := range des {
				if de.Name() != "ok.png" {
					t.Errorf("left in d/: %s", de.Name())
				}
			}
		})
	}
}
