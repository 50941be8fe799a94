package executor

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/image/webp"

	"github.com/pixform/pixform/media"
	"github.com/pixform/pixform/state"
)

func TestMediaTypeOf(t *testing.T) {
	tests := map[string]struct {
		path, want string
		wantErr    bool
	}{
		"png":          {path: "a/b.png", want: media.PNG},
		"upper png":    {path: "B.PNG", want: media.PNG},
		"jpg":          {path: "x.jpg", want: media.JPEG},
		"jpeg":         {path: "x.jpeg", want: media.JPEG},
		"webp refused": {path: "x.webp", wantErr: true},
		"no extension": {path: "x", wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := MediaTypeOf(tc.path)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("MediaTypeOf(%q) = %q, %v; want %q, error %v", tc.path, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestFinish(t *testing.T) {
	pngB := pngOf(t, 7, 5, 3)
	jpgB := jpegOf(t, 33, 17)
	tests := map[string]struct {
		body      []byte
		target    string
		wantType  string
		wantW     int
		wantH     int
		transient bool // want a Transient *Error
		same      bool // want the bytes unchanged
	}{
		"png for png":         {body: pngB, target: "a.png", wantType: media.PNG, wantW: 7, wantH: 5, same: true},
		"jpeg for jpg":        {body: jpgB, target: "a.jpg", wantType: media.JPEG, wantW: 33, wantH: 17, same: true},
		"png for jpg":         {body: pngB, target: "a.jpg", wantType: media.JPEG, wantW: 7, wantH: 5},
		"jpeg for png":        {body: jpgB, target: "a.png", wantType: media.PNG, wantW: 33, wantH: 17},
		"truncated png":       {body: pngB[:len(pngB)-12], target: "a.png", transient: true},
		"png header only":     {body: pngB[:33], target: "a.png", transient: true},
		"truncated jpeg":      {body: jpgB[:len(jpgB)*2/3], target: "a.jpg", transient: true},
		"empty":               {body: nil, target: "a.png", transient: true},
		"json error body":     {body: []byte(`{"status":"error","code":"1300"}`), target: "a.png", transient: true},
		"corrupt png payload": {body: append(append([]byte{}, pngB[:40]...), bytes.Repeat([]byte{0xAA}, len(pngB)-40)...), target: "a.png", transient: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			target := filepath.Join(dir, tc.target)
			tmp, err := state.CreateTemp(target)
			if err != nil {
				t.Fatal(err)
			}
			d := newDigestWriter()
			tmp.Write(tc.body)
			d.Write(tc.body)
			want, _ := MediaTypeOf(tc.target)
			out, err := finish(tmp, state.AbortTemp, target, want, d, "the test body")
			if tc.transient {
				var pe *Error
				if !errors.As(err, &pe) || pe.Class != Transient {
					t.Fatalf("finish error = %v, want a transient *Error", err)
				}
				noTempFiles(t, dir)
				return
			}
			if err != nil {
				t.Fatalf("finish: %v", err)
			}
			if err := state.CommitTemp(out.tmp, target); err != nil {
				t.Fatal(err)
			}
			noTempFiles(t, dir)
			b, err := os.ReadFile(target)
			if err != nil {
				t.Fatal(err)
			}
			if out.sha256 != sumOf(b) || out.bytes != int64(len(b)) {
				t.Errorf("recorded hash/size do not match the file")
			}
			if out.mediaType != tc.wantType || out.width != tc.wantW || out.height != tc.wantH {
				t.Errorf("got %s %dx%d, want %s %dx%d", out.mediaType, out.width, out.height, tc.wantType, tc.wantW, tc.wantH)
			}
			if tc.same != bytes.Equal(b, tc.body) {
				t.Errorf("bytes unchanged = %v, want %v", !tc.same, tc.same)
			}
			if _, format, err := image.DecodeConfig(bytes.NewReader(b)); err != nil || media.OfFormat(format) != tc.wantType {
				t.Errorf("file decodes as %q (%v), want %s", format, err, tc.wantType)
			}
		})
	}
}

// TestSniffWebP checks that WebP is recognised (decoding it is x/image's).
func TestSniffWebP(t *testing.T) {
	head := []byte("RIFF\x00\x00\x00\x00WEBPVP8 ")
	if got := sniff(head); got != "webp" {
		t.Errorf("sniff = %q", got)
	}
	if _, err := webp.Decode(bytes.NewReader(head)); err == nil {
		t.Errorf("a header alone decoded")
	}
}

// A response checked as it streamed into its temporary file is not read
// back from it: here the file cannot be read at all.
func TestFinishCheckedAsItStreams(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "a.png")
	tmp, err := os.OpenFile(filepath.Join(dir, ".pixform-tmp-a.png-1"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	body := pngOf(t, 7, 5, 3)
	d := newCheckingDigestWriter()
	if _, err := io.MultiWriter(tmp, d).Write(body); err != nil {
		t.Fatal(err)
	}
	out, err := finish(tmp, state.AbortTemp, target, media.PNG, d, "the test body")
	if err != nil {
		t.Fatalf("finish: %v", err)
	}
	defer state.AbortTemp(out.tmp)
	if out.mediaType != media.PNG || out.width != 7 || out.height != 5 || out.sha256 != sumOf(body) || out.bytes != int64(len(body)) {
		t.Errorf("got %s %dx%d %s %d", out.mediaType, out.width, out.height, out.sha256, out.bytes)
	}
}

// Checked as it streams, a response gets finish's verdict of the same
// bytes read back from the file: accepted with the same type and size, or
// refused as a transient bad body.
func TestFinishStreamedMatches(t *testing.T) {
	pngB := pngOf(t, 7, 5, 3)
	jpgB := jpegOf(t, 33, 17)
	flipped := bytes.Clone(pngB)
	flipped[len(flipped)/2] ^= 0x10
	bodies := map[string][]byte{
		"png": pngB, "jpeg": jpgB, "truncated png": pngB[:len(pngB)-12], "truncated jpeg": jpgB[:len(jpgB)*2/3],
		"flipped png": flipped, "empty": nil, "json": []byte(`{"status":"error"}`),
	}
	for name, body := range bodies {
		for _, target := range []string{"a.png", "a.jpg"} {
			t.Run(name+" for "+target, func(t *testing.T) {
				var got [2]string
				for i, d := range []*digestWriter{newDigestWriter(), newCheckingDigestWriter()} {
					dir := t.TempDir()
					p := filepath.Join(dir, target)
					tmp, err := state.CreateTemp(p)
					if err != nil {
						t.Fatal(err)
					}
					tmp.Write(body)
					d.Write(body)
					want, _ := MediaTypeOf(target)
					out, err := finish(tmp, state.AbortTemp, p, want, d, "the test body")
					if err != nil {
						var pe *Error
						if !errors.As(err, &pe) || pe.Class != Transient {
							t.Fatalf("finish error = %v, want a transient *Error", err)
						}
						got[i] = "refused"
						continue
					}
					got[i] = fmt.Sprintf("%s %dx%d %s %d", out.mediaType, out.width, out.height, out.sha256, out.bytes)
					state.AbortTemp(out.tmp)
				}
				if got[0] != got[1] {
					t.Errorf("read back: %s; checked as it streamed: %s", got[0], got[1])
				}
			})
		}
	}
}
