package fakeapi

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/pixform/pixform/edits"
)

// upload is a multipart form with text fields and files.
type upload struct {
	text  map[string]string
	files map[string][]byte
}

func postUpload(t *testing.T, url, bearer string, u upload) (*http.Response, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range u.text {
		mw.WriteField(k, v)
	}
	for k, data := range u.files {
		w, _ := mw.CreateFormFile(k, k+".png")
		w.Write(data)
	}
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, url, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	out.ReadFrom(resp.Body)
	return resp, out.Bytes()
}

// testPNG is a w×h opaque PNG; with a mask, white left half.
func testPNG(t *testing.T, w, h int, maskLeft bool) []byte {
	t.Helper()
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.NRGBA{uint8(x * 4), uint8(y * 4), 90, 255}
			if maskLeft {
				c = color.NRGBA{0, 0, 0, 255}
				if x < w/2 {
					c = color.NRGBA{255, 255, 255, 255}
				}
			}
			m.SetNRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	png.Encode(&b, m)
	return b.Bytes()
}

func editURL(s *Server, op string) string {
	p, _ := edits.Path(op)
	return strings.TrimSuffix(s.URL(), edits.GenerationsPath) + p
}

func TestEditEndpoints(t *testing.T) {
	src := testPNG(t, 40, 30, false)
	mask := testPNG(t, 40, 30, true)
	srcImg, _ := png.Decode(bytes.NewReader(src))
	tests := map[string]struct {
		op    string
		form  upload
		check func(t *testing.T, m image.Image)
	}{
		"remove-background": {op: edits.RemoveBackground, form: upload{files: map[string][]byte{"image": src}},
			check: func(t *testing.T, m image.Image) {
				wantBounds(t, m, 40, 30)
				if a := alphaAt(m, 0, 0); a != 0 {
					t.Errorf("corner alpha %d, want 0", a)
				}
				if a := alphaAt(m, 20, 15); a != 255 {
					t.Errorf("centre alpha %d, want 255", a)
				}
			}},
		"enhance": {op: edits.Upscale, form: upload{files: map[string][]byte{"image": src}},
			check: func(t *testing.T, m image.Image) { wantBounds(t, m, 80, 60) }},
		"generative-fill": {op: edits.GenerativeFill, form: upload{text: map[string]string{"prompt": "grass"}, files: map[string][]byte{"image": src, "mask": mask}},
			check: func(t *testing.T, m image.Image) {
				wantBounds(t, m, 40, 30)
				if same(m.At(5, 5), srcImg.At(5, 5)) {
					t.Error("the masked region (white) is unchanged")
				}
				if !same(m.At(35, 5), srcImg.At(35, 5)) {
					t.Error("the region outside the mask changed")
				}
			}},
		"ai-background": {op: edits.AIBackground, form: upload{text: map[string]string{"prompt": "marble", "seed": "3", "style": "product-shoot"}, files: map[string][]byte{"image": src}},
			check: func(t *testing.T, m image.Image) {
				wantBounds(t, m, 40, 30)
				for y := range 30 {
					for x := range 40 {
						if a := alphaAt(m, x, y); a != 255 {
							t.Fatalf("alpha %d at %d,%d: want opaque", a, x, y)
						}
					}
				}
			}},
		"transparent": {op: edits.Transparent, form: upload{text: map[string]string{"prompt": "logo", "aspect_ratio": "16:9"}},
			check: func(t *testing.T, m image.Image) {
				w, h := Size("16:9")
				wantBounds(t, m, w, h)
				if alphaAt(m, 0, 0) != 0 || alphaAt(m, w/2, h/2) != 255 {
					t.Error("want a transparent corner and an opaque centre")
				}
			}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := New(Config{Token: token, Credits: Unlimited})
			defer s.Close()
			resp, body := postUpload(t, editURL(s, tc.op), token, tc.form)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
				t.Fatalf("status %d, %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			m, err := png.Decode(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, m)
			p, _ := edits.Path(tc.op)
			st := s.Stats()
			if st.ByEndpoint[p] != 1 || st.ByEndpoint[edits.GenerationsPath] != 0 || st.Successes != 1 || st.CreditsSpent != EditCost {
				t.Errorf("stats: by endpoint %v, %d successes, %d credits", st.ByEndpoint, st.Successes, st.CreditsSpent)
			}
		})
	}
}

func wantBounds(t *testing.T, m image.Image, w, h int) {
	t.Helper()
	if got := m.Bounds().Size(); got != image.Pt(w, h) {
		t.Errorf("size %v, want %dx%d", got, w, h)
	}
}

func alphaAt(m image.Image, x, y int) uint8 {
	return color.NRGBAModel.Convert(m.At(m.Bounds().Min.X+x, m.Bounds().Min.Y+y)).(color.NRGBA).A
}

func same(a, b color.Color) bool {
	r1, g1, b1, a1 := a.RGBA()
	r2, g2, b2, a2 := b.RGBA()
	return r1 == r2 && g1 == g2 && b1 == b2 && a1 == a2
}

func TestEditErrors(t *testing.T) {
	src := testPNG(t, 40, 30, false)
	mask := testPNG(t, 40, 30, true)
	tests := map[string]struct {
		op     string
		bearer string
		form   upload
		status int
		code   string
		msg    string
	}{
		"no token":            {op: edits.Upscale, bearer: "-", form: upload{files: map[string][]byte{"image": src}}, status: 400, code: "1000"},
		"no image":            {op: edits.Upscale, status: 400, code: "1100", msg: "image is required"},
		"image as text":       {op: edits.RemoveBackground, form: upload{text: map[string]string{"image": "x"}}, status: 400, code: "1100", msg: "image must be a file"},
		"image undecodable":   {op: edits.Upscale, form: upload{files: map[string][]byte{"image": []byte("GIF89a....")}}, status: 400, code: "1100", msg: "image is not a PNG or JPEG"},
		"image truncated":     {op: edits.Upscale, form: upload{files: map[string][]byte{"image": src[:len(src)/2]}}, status: 400, code: "1100", msg: "image is not a readable image"},
		"image a bomb":        {op: edits.Upscale, form: upload{files: map[string][]byte{"image": BombPNG(BombSide, BombSide)}}, status: 400, code: "1100", msg: "outside 1 to"},
		"unknown field":       {op: edits.Upscale, form: upload{text: map[string]string{"scale": "2"}, files: map[string][]byte{"image": src}}, status: 400, code: "1100", msg: `unknown field "scale"`},
		"unknown file":        {op: edits.Upscale, form: upload{files: map[string][]byte{"image": src, "mask": mask}}, status: 400, code: "1100", msg: `unknown file field "mask"`},
		"fill without mask":   {op: edits.GenerativeFill, form: upload{text: map[string]string{"prompt": "p"}, files: map[string][]byte{"image": src}}, status: 400, code: "1100", msg: "mask is required"},
		"fill without prompt": {op: edits.GenerativeFill, form: upload{files: map[string][]byte{"image": src, "mask": mask}}, status: 400, code: "1100", msg: "prompt is required"},
		"fill mask size":      {op: edits.GenerativeFill, form: upload{text: map[string]string{"prompt": "p"}, files: map[string][]byte{"image": src, "mask": testPNG(t, 30, 40, true)}}, status: 400, code: "1100", msg: "same dimensions"},
		"background style":    {op: edits.AIBackground, form: upload{text: map[string]string{"prompt": "p", "style": "flux-dev"}, files: map[string][]byte{"image": src}}, status: 400, code: "1100", msg: `style "flux-dev" does not exist`},
		"background seed":     {op: edits.AIBackground, form: upload{text: map[string]string{"prompt": "p", "seed": "0"}, files: map[string][]byte{"image": src}}, status: 400, code: "1100", msg: "seed"},
		"transparent style":   {op: edits.Transparent, form: upload{text: map[string]string{"prompt": "p", "style": "flux-dev"}}, status: 400, code: "1100", msg: `unknown field "style"`},
		"transparent ratio":   {op: edits.Transparent, form: upload{text: map[string]string{"prompt": "p", "aspect_ratio": "2:1"}}, status: 400, code: "1100", msg: "aspect_ratio"},
		"transparent image":   {op: edits.Transparent, form: upload{text: map[string]string{"prompt": "p"}, files: map[string][]byte{"image": src}}, status: 400, code: "1100", msg: `unknown file field "image"`},
		"prompt fault":        {op: edits.GenerativeFill, form: upload{text: map[string]string{"prompt": "p [fault:503]"}, files: map[string][]byte{"image": src, "mask": mask}}, status: 503, code: "1200"},
		"ai-resize":           {op: "/image/edits/ai-resize", form: upload{files: map[string][]byte{"image": src}}, status: 503, code: "1206"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := New(Config{Token: token, Credits: Unlimited})
			defer s.Close()
			bearer := token
			if tc.bearer == "-" {
				bearer = ""
			}
			url := editURL(s, tc.op)
			if strings.HasPrefix(tc.op, "/") {
				url = strings.TrimSuffix(s.URL(), edits.GenerationsPath) + tc.op
			}
			resp, body := postUpload(t, url, bearer, tc.form)
			var e struct{ Status, Code, Message string }
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("status %d, body %q: not the vendor's error", resp.StatusCode, body)
			}
			if resp.StatusCode != tc.status || e.Status != "error" || e.Code != tc.code || !strings.Contains(e.Message, tc.msg) {
				t.Errorf("got %d %+v, want %d code %s with %q", resp.StatusCode, e, tc.status, tc.code, tc.msg)
			}
			if st := s.Stats(); st.Successes != 0 || st.CreditsSpent != 0 {
				t.Errorf("stats %+v after a failure", st)
			}
		})
	}
}

// TestEditFaultsAndCredits: the queue of scripted faults, the rate limit
// and the credit balance apply to edits as to text to image.
func TestEditFaultsAndCredits(t *testing.T) {
	src := testPNG(t, 40, 30, false)
	s := New(Config{Token: token, Credits: 1, Faults: []Fault{Fault429}})
	defer s.Close()
	up := upload{files: map[string][]byte{"image": src}}
	for i, want := range []int{429, 200, 402} {
		resp, body := postUpload(t, editURL(s, edits.Upscale), token, up)
		if resp.StatusCode != want {
			t.Fatalf("request %d: %d %s, want %d", i+1, resp.StatusCode, body, want)
		}
		if want == 429 && resp.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	if n := s.Stats().ByEndpoint["/image/enhance"]; n != 3 {
		t.Errorf("%d requests to /image/enhance, want 3", n)
	}
}
