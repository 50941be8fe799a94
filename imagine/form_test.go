package imagine

import (
	"bytes"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"testing"

	"github.com/pixform/pixform/executor"
	"github.com/pixform/pixform/state"
)

// formFields reads a multipart form as a server would.
func formFields(t *testing.T, body []byte, contentType string) map[string]string {
	t.Helper()
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "multipart/form-data" {
		t.Fatalf("content type %q: %v", contentType, err)
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	out := map[string]string{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("read the form: %v\n%q", err, body)
		}
		v, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		out[p.FormName()] = string(v)
	}
}

// The hand-written text-to-image form reads, field for field, as the one
// mime/multipart writes.
func TestFormBodyWith(t *testing.T) {
	const boundary = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab"
	tests := map[string]state.Inputs{
		"plain":              {Prompt: "a city at night", Style: "flux-dev", AspectRatio: "16:9", Seed: 42},
		"no seed":            {Prompt: "a city", Style: "flux-dev", AspectRatio: "1:1"},
		"negative seed":      {Prompt: "a city", Style: "flux-dev", AspectRatio: "1:1", Seed: -7},
		"no style":           {Prompt: "a city", AspectRatio: "1:1", Seed: 1},
		"empty prompt":       {Style: "flux-dev"},
		"line breaks":        {Prompt: "line one\r\nline two\n\r\n--", Style: "s", AspectRatio: "1:1", Seed: 1},
		"quotes, unicode":    {Prompt: `say "hi" — ünïcode 🌃`, Style: "s\"x", AspectRatio: "1:1", Seed: 1},
		"holds the boundary": {Prompt: "before\r\n--" + boundary + "\r\nafter", Style: "s", AspectRatio: "1:1", Seed: 1},
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			req := executor.Request{Inputs: in}
			wantBody, wantType, err := formBody(req)
			if err != nil {
				t.Fatal(err)
			}
			body, typ, err := formBodyWith(req, boundary)
			if err != nil {
				t.Fatal(err)
			}
			got, want := formFields(t, body, typ), formFields(t, wantBody, wantType)
			if !maps.Equal(got, want) {
				t.Errorf("fields %q, want %q", got, want)
			}
		})
	}
}

// The form of a text-to-image request is built in one buffer, not part
// by part.
func TestFormBodyWithAllocations(t *testing.T) {
	c := New(Options{URL: "http://127.0.0.1:1/", Token: secret})
	req := hero()
	allocs := testing.AllocsPerRun(100, func() {
		if _, _, err := formBodyWith(req, c.boundary); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 2 {
		t.Errorf("%v allocations per form, want at most 2", allocs)
	}
}
