package imagine

import (
	"bytes"
	"context"
	"image"
	"testing"
	"time"

	"github.com/pixform/pixform/edits"
	"github.com/pixform/pixform/executor"
	"github.com/pixform/pixform/internal/fakeapi"
)

// TestEditAgainstFake: the client's edit requests are what the fake, as
// strict as the vendor's reference, accepts, for every operation; and its
// failures are classified as for text to image.
func TestEditAgainstFake(t *testing.T) {
	src, mask := pngOf(t, 48, 32), pngOf(t, 48, 32)
	tests := map[string]struct {
		req    edits.Request
		faults []fakeapi.Fault
		w, h   int
		class  executor.Class
		ok     bool
	}{
		"remove-background": {req: edits.Request{Op: edits.RemoveBackground, Image: src}, w: 48, h: 32, ok: true},
		"upscale":           {req: edits.Request{Op: edits.Upscale, Image: jpegOf(t, 48, 32)}, w: 96, h: 64, ok: true},
		"generative-fill":   {req: edits.Request{Op: edits.GenerativeFill, Image: src, Mask: mask, Prompt: "grass"}, w: 48, h: 32, ok: true},
		"ai-background":     {req: edits.Request{Op: edits.AIBackground, Image: src, Prompt: "marble", Seed: 5}, w: 48, h: 32, ok: true},
		"transparent":       {req: edits.Request{Op: edits.Transparent, Prompt: "logo", AspectRatio: "9:16"}, w: 64, h: 114, ok: true},
		"invalid":           {req: edits.Request{Op: edits.GenerativeFill, Image: src, Mask: mask, Prompt: "x [fault:1100]"}, class: executor.Invalid},
		"throttled":         {req: edits.Request{Op: edits.Upscale, Image: src}, faults: []fakeapi.Fault{fakeapi.Fault429}, class: executor.Throttled},
		"transient":         {req: edits.Request{Op: edits.Upscale, Image: src}, faults: []fakeapi.Fault{fakeapi.Fault503ServiceDown}, class: executor.Transient},
		"out of credits":    {req: edits.Request{Op: edits.Upscale, Image: src}, faults: []fakeapi.Fault{fakeapi.Fault402Credits}, class: executor.Fatal},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := fakeapi.New(fakeapi.Config{Token: secret, Credits: fakeapi.Unlimited, Faults: tc.faults})
			defer srv.Close()
			var out bytes.Buffer
			err := newClient(srv.URL(), 5*time.Second).Edit(context.Background(), tc.req, &out)
			if !tc.ok {
				if err == nil || executor.ClassOf(err) != tc.class {
					t.Fatalf("Edit = %v, want class %v", err, tc.class)
				}
				return
			}
			if err != nil {
				t.Fatalf("Edit: %v", err)
			}
			cfg, _, err := image.DecodeConfig(&out)
			if err != nil || cfg.Width != tc.w || cfg.Height != tc.h {
				t.Errorf("answer %dx%d (%v), want %dx%d", cfg.Width, cfg.Height, err, tc.w, tc.h)
			}
			p, _ := edits.Path(tc.req.Op)
			if n := srv.Stats().ByEndpoint[p]; n != 1 {
				t.Errorf("%d requests to %s, want 1", n, p)
			}
		})
	}
}
