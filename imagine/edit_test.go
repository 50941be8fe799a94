package imagine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pixform/pixform/edits"
	"github.com/pixform/pixform/executor"
)

func pngOf(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewNRGBA(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegOf(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewRGBA(image.Rect(0, 0, w, h)), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// part is one part of a multipart form as a server received it.
type part struct {
	filename, contentType string
	data                  []byte
}

// readParts reads every part of r's multipart body, keyed by form name; a
// name sent twice is an error.
func readParts(t *testing.T, r *http.Request) map[string]part {
	t.Helper()
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		t.Errorf("Content-Type = %q", r.Header.Get("Content-Type"))
		return nil
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	parts := map[string]part{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return parts
		}
		if err != nil {
			t.Errorf("read part: %v", err)
			return parts
		}
		data, _ := io.ReadAll(p)
		if _, dup := parts[p.FormName()]; dup {
			t.Errorf("field %s sent twice", p.FormName())
		}
		parts[p.FormName()] = part{filename: p.FileName(), contentType: p.Header.Get("Content-Type"), data: data}
	}
}

// TestEditRequest: each operation goes to its endpoint beside the
// text-to-image URL with exactly the fields the vendor names, the files
// with a file name and their media type.
func TestEditRequest(t *testing.T) {
	img, jpg, mask := pngOf(t, 40, 30), jpegOf(t, 40, 30), pngOf(t, 40, 30)
	answer := pngOf(t, 80, 60)
	tests := map[string]struct {
		req    edits.Request
		path   string
		fields map[string]string // text fields, exactly
		files  map[string]part   // file fields, exactly
	}{
		"remove-background": {
			req:   edits.Request{Op: edits.RemoveBackground, Image: img, Addr: "image.cut"},
			path:  "/v2/image/background/remover",
			files: map[string]part{"image": {"image.png", "image/png", img}},
		},
		"upscale jpeg": {
			req:   edits.Request{Op: edits.Upscale, Image: jpg},
			path:  "/v2/image/enhance",
			files: map[string]part{"image": {"image.jpg", "image/jpeg", jpg}},
		},
		"generative-fill": {
			req:    edits.Request{Op: edits.GenerativeFill, Image: jpg, Mask: mask, Prompt: "a red door"},
			path:   "/v2/image/edits/generative-fill",
			fields: map[string]string{"prompt": "a red door"},
			files:  map[string]part{"image": {"image.jpg", "image/jpeg", jpg}, "mask": {"mask.png", "image/png", mask}},
		},
		"ai-background with seed": {
			req:    edits.Request{Op: edits.AIBackground, Image: img, Prompt: "marble", Seed: 99},
			path:   "/v2/image/generations/ai-background",
			fields: map[string]string{"prompt": "marble", "seed": "99"},
			files:  map[string]part{"image": {"image.png", "image/png", img}},
		},
		"ai-background no seed, no style": {
			req:    edits.Request{Op: edits.AIBackground, Image: img, Prompt: "marble"},
			path:   "/v2/image/generations/ai-background",
			fields: map[string]string{"prompt": "marble"},
			files:  map[string]part{"image": {"image.png", "image/png", img}},
		},
		"transparent": {
			req:    edits.Request{Op: edits.Transparent, Prompt: "a logo", AspectRatio: "16:9", Seed: 4294967295},
			path:   "/v2/image/generations/transparent",
			fields: map[string]string{"prompt": "a logo", "aspect_ratio": "16:9", "seed": "4294967295"},
		},
		"transparent defaults not sent": {
			req:    edits.Request{Op: edits.Transparent, Prompt: "a logo"},
			path:   "/v2/image/generations/transparent",
			fields: map[string]string{"prompt": "a logo"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var got *http.Request
			var parts map[string]part
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got, parts = r, readParts(t, r)
				w.Header().Set("Content-Type", "image/png")
				w.Write(answer)
			}))
			defer srv.Close()
			var out bytes.Buffer
			if err := newClient(srv.URL+"/v2/image/generations?team=a", 5*time.Second).Edit(context.Background(), tc.req, &out); err != nil {
				t.Fatalf("Edit: %v", err)
			}
			if !bytes.Equal(out.Bytes(), answer) {
				t.Errorf("wrote %d bytes, want the %d of the answer", out.Len(), len(answer))
			}
			if got.Method != http.MethodPost || got.URL.Path != tc.path || got.URL.RawQuery != "team=a" {
				t.Errorf("request %s %s, want POST %s?team=a", got.Method, got.URL, tc.path)
			}
			if h := got.Header.Get("Authorization"); h != "Bearer "+secret {
				t.Errorf("Authorization = %q", h)
			}
			if h := got.Header.Get("User-Agent"); h != "pixform/1.2.3" {
				t.Errorf("User-Agent = %q", h)
			}
			var names, want []string
			for k := range parts {
				names = append(names, k)
			}
			for k := range tc.fields {
				want = append(want, k)
			}
			for k := range tc.files {
				want = append(want, k)
			}
			slices.Sort(names)
			slices.Sort(want)
			if !slices.Equal(names, want) {
				t.Errorf("fields sent %q, want exactly %q", names, want)
			}
			for k, v := range tc.fields {
				if p := parts[k]; string(p.data) != v || p.filename != "" {
					t.Errorf("field %s = %q (file %q), want %q", k, p.data, p.filename, v)
				}
			}
			for k, f := range tc.files {
				p := parts[k]
				if p.filename != f.filename || p.contentType != f.contentType || !bytes.Equal(p.data, f.data) {
					t.Errorf("file %s = %q %q, %d bytes; want %q %q, %d bytes", k, p.filename, p.contentType, len(p.data), f.filename, f.contentType, len(f.data))
				}
			}
		})
	}
}

// TestEditRefusedBeforeRequest: a request that Check refuses, a URL beside
// which no endpoint can be found, and a missing token send nothing.
func TestEditRefusedBeforeRequest(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	good := srv.URL + "/v2/image/generations"
	img := pngOf(t, 40, 30)
	tests := map[string]struct {
		url, token string
		req        edits.Request
		class      executor.Class
		want       []string
	}{
		"no image": {url: good, req: edits.Request{Op: edits.Upscale},
			class: executor.Invalid, want: []string{"the edit was not sent: upscale: a source image is required"}},
		"mask of other size": {url: good, req: edits.Request{Op: edits.GenerativeFill, Prompt: "p", Image: img, Mask: pngOf(t, 30, 40)},
			class: executor.Invalid, want: []string{"the mask is 30×40 but the image is 40×30"}},
		"unknown op": {url: good, req: edits.Request{Op: "ai-resize", Image: img},
			class: executor.Fatal, want: []string{`unknown operation "ai-resize"`}},
		"URL not beside": {url: srv.URL + "/render?key=" + secret, req: edits.Request{Op: edits.Upscale, Image: img},
			class: executor.Fatal, want: []string{"does not end in /image/generations", "set IMAGINE_API_URL"}},
		"URL with the token in its path": {url: srv.URL + "/" + secret + "/x", req: edits.Request{Op: edits.Upscale, Image: img},
			class: executor.Fatal, want: []string{"does not end in /image/generations"}},
		"no token": {url: good, token: "-", req: edits.Request{Op: edits.Upscale, Image: img},
			class: executor.Fatal, want: []string{"IMAGINE_API_TOKEN is not set"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := newClient(tc.url, time.Second)
			if tc.token == "-" {
				c = New(Options{URL: tc.url})
			}
			err := c.Edit(context.Background(), tc.req, io.Discard)
			if executor.ClassOf(err) != tc.class || err == nil {
				t.Fatalf("Edit = %v, want class %v", err, tc.class)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if leaks(chainText(err)) {
				t.Errorf("error shows the token: %q", chainText(err))
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
}

// TestEditErrorResponses: the endpoints' failures are classified as
// text-to-image's are, with advice about the edit's own fields, and the
// token the server echoes never shows.
func TestEditErrorResponses(t *testing.T) {
	img := pngOf(t, 40, 30)
	jsonErr := func(code, name, msg string) string {
		return fmt.Sprintf(`{"status":"error","code":%q,"error":%q,"message":%q}`, code, name, msg)
	}
	tests := map[string]struct {
		status int
		header map[string]string
		body   string
		class  executor.Class
		retry  time.Duration
		want   []string
	}{
		"1100": {status: 400, body: jsonErr("1100", "invalid_request", "mask size mismatch "+secret), class: executor.Invalid,
			want: []string{"rejected the request: mask size mismatch", "check the generative-fill image's source (from), prompt, mask"}},
		"429":  {status: 429, header: map[string]string{"Retry-After": "7"}, body: jsonErr("1202", "too_many", "slow down"), class: executor.Throttled, retry: 7 * time.Second},
		"503":  {status: 503, body: jsonErr("1200", "unavailable", "busy"), class: executor.Transient, want: []string{"busy"}},
		"401":  {status: 401, body: jsonErr("1001", "invalid_token", "bad token "+secret), class: executor.Fatal, want: []string{"IMAGINE_API_TOKEN is invalid"}},
		"402":  {status: 402, body: jsonErr("1101", "no_credits", ""), class: executor.Fatal, want: []string{"out of credits"}},
		"1206": {status: 503, body: jsonErr("1206", "unsupported", ""), class: executor.Fatal},
		"404 without code": {status: 404, body: "404 page not found", class: executor.Fatal,
			want: []string{"generative-fill endpoint", "check IMAGINE_API_URL", "https://api.vyro.ai/v2/image/edits/generative-fill"}},
		"redirect": {status: 307, header: map[string]string{"Location": "https://elsewhere.example/x?k=" + secret}, class: executor.Fatal,
			want: []string{"redirect to elsewhere.example", "does not follow redirects"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			var out bytes.Buffer
			req := edits.Request{Op: edits.GenerativeFill, Prompt: "p", Image: img, Mask: img}
			err := newClient(srv.URL+"/v2/image/generations", 5*time.Second).Edit(context.Background(), req, &out)
			if executor.ClassOf(err) != tc.class || err == nil {
				t.Fatalf("Edit = %v, want class %v", err, tc.class)
			}
			var pe *executor.Error
			if tc.retry != 0 && (!errors.As(err, &pe) || pe.RetryAfter != tc.retry) {
				t.Errorf("RetryAfter of %v, want %s", err, tc.retry)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if leaks(chainText(err)) {
				t.Errorf("error shows the token: %q", chainText(err))
			}
			if out.Len() != 0 {
				t.Errorf("%d bytes written from a failure", out.Len())
			}
		})
	}
}

// TestEditBodyCap: an edit's answer is held to MaxBytes as a render's is.
func TestEditBodyCap(t *testing.T) {
	const limit = 64 << 10
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "image/png")
		for range 20 {
			w.Write(make([]byte, 16<<10))
		}
	}))
	defer srv.Close()
	var out bytes.Buffer
	c := New(Options{URL: srv.URL + "/v2/image/generations", Token: secret, MaxBytes: limit})
	err := c.Edit(context.Background(), edits.Request{Op: edits.Upscale, Image: pngOf(t, 40, 30)}, &out)
	// The server made the answer: it is paid for.
	var pe *executor.Error
	if !errors.As(err, &pe) || pe.Class != executor.Transient || !pe.Paid || !strings.Contains(err.Error(), "larger than 64 KiB") || !strings.Contains(err.Error(), "max_image_bytes") {
		t.Fatalf("Edit = %v, want a transient, paid error naming the limit and max_image_bytes", err)
	}
	if out.Len() > limit {
		t.Errorf("%d bytes written, more than the %d limit", out.Len(), limit)
	}
}
