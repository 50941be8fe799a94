package draft

import (
	"bytes"
	"context"
	"errors"
	"image"
	_ "image/jpeg" // decode JPEG placeholders
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/executor"
	"github.com/pixform/pixform/state"
)

func req(ar, mt string) executor.Request {
	return executor.Request{Addr: addrs.Addr{Name: "hero"}, Inputs: state.Inputs{Prompt: "a futuristic city at night, neon lights reflecting on wet streets", Style: "flux-dev", AspectRatio: ar, Seed: 42}, MediaType: mt}
}

func TestSize(t *testing.T) {
	tests := map[string]struct {
		ar      string
		w, h    int
		wantErr bool
	}{
		"1:1":     {ar: "1:1", w: 1024, h: 1024},
		"empty":   {ar: "", w: 1024, h: 1024},
		"16:9":    {ar: "16:9", w: 1024, h: 576},
		"9:16":    {ar: "9:16", w: 576, h: 1024},
		"3:2":     {ar: "3:2", w: 1024, h: 683},
		"2:3":     {ar: "2:3", w: 683, h: 1024},
		"4:3":     {ar: "4:3", w: 1024, h: 768},
		"3:4":     {ar: "3:4", w: 768, h: 1024},
		"garbage": {ar: "wide", wantErr: true},
		"zero":    {ar: "0:1", wantErr: true},
		"extreme": {ar: "1000:1", wantErr: true},
		"neg":     {ar: "-1:2", wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w, h, err := Size(tc.ar)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Size(%q) error = %v, want error %v", tc.ar, err, tc.wantErr)
			}
			if !tc.wantErr && (w != tc.w || h != tc.h) {
				t.Errorf("Size(%q) = %dx%d, want %dx%d", tc.ar, w, h, tc.w, tc.h)
			}
		})
	}
}

func TestRenderFormatsAndDeterminism(t *testing.T) {
	r := New()
	long := strings.Repeat("an extraordinarily detailed baroque cathedral interior with ", 12) + "Supercalifragilisticexpialidociousandthensomemorelettersthatdonotfitononeline"
	tests := map[string]struct {
		req        executor.Request
		wantFormat string
		w, h       int
	}{
		"png 16:9":       {req: req("16:9", "image/png"), wantFormat: "png", w: 1024, h: 576},
		"jpeg 1:1":       {req: req("1:1", "image/jpeg"), wantFormat: "jpeg", w: 1024, h: 1024},
		"default png":    {req: req("9:16", ""), wantFormat: "png", w: 576, h: 1024},
		"long prompt":    {req: executor.Request{Addr: addrs.Addr{Name: "icon", Kind: addrs.StringKey, Key: "home"}, Inputs: state.Inputs{Prompt: long, Style: "anime", AspectRatio: "3:2"}, MediaType: "image/png"}, wantFormat: "png", w: 1024, h: 683},
		"empty prompt":   {req: executor.Request{Inputs: state.Inputs{AspectRatio: "4:3"}}, wantFormat: "png", w: 1024, h: 768},
		"unicode prompt": {req: executor.Request{Inputs: state.Inputs{Prompt: "café ☕ — 東京 at dusk", AspectRatio: "3:4"}, MediaType: "image/jpeg"}, wantFormat: "jpeg", w: 768, h: 1024},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var a, b bytes.Buffer
			if err := r.Render(context.Background(), tc.req, &a); err != nil {
				t.Fatal(err)
			}
			if err := New().Render(context.Background(), tc.req, &b); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Error("same inputs gave different bytes")
			}
			img, format, err := image.Decode(bytes.NewReader(a.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if format != tc.wantFormat || img.Bounds().Dx() != tc.w || img.Bounds().Dy() != tc.h {
				t.Errorf("got %s %v, want %s %dx%d", format, img.Bounds(), tc.wantFormat, tc.w, tc.h)
			}
		})
	}
}

func TestRenderInputsChangeOutput(t *testing.T) {
	r := New()
	base := req("16:9", "image/png")
	render := func(q executor.Request) []byte {
		var b bytes.Buffer
		if err := r.Render(context.Background(), q, &b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	want := render(base)
	tests := map[string]func(*executor.Request){
		"prompt": func(q *executor.Request) { q.Prompt += "!" },
		"seed":   func(q *executor.Request) { q.Seed++ },
		"style":  func(q *executor.Request) { q.Style = "anime" },
		"addr":   func(q *executor.Request) { q.Addr = addrs.Addr{Name: "other"} },
	}
	for name, change := range tests {
		t.Run(name, func(t *testing.T) {
			q := base
			change(&q)
			if bytes.Equal(render(q), want) {
				t.Errorf("changing the %s did not change the image", name)
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := map[string]struct {
		ctx       context.Context
		req       executor.Request
		wantClass executor.Class
		wantIs    error
	}{
		"bad ratio": {ctx: context.Background(), req: req("wide", "image/png"), wantClass: executor.Invalid},
		"cancelled": {ctx: cancelled, req: req("1:1", "image/png"), wantClass: executor.Transient, wantIs: context.Canceled},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			err := New().Render(tc.ctx, tc.req, &b)
			if err == nil || executor.ClassOf(err) != tc.wantClass {
				t.Fatalf("Render = %v (class %v), want class %v", err, executor.ClassOf(err), tc.wantClass)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.wantIs)
			}
			if b.Len() != 0 {
				t.Errorf("wrote %d bytes on failure", b.Len())
			}
		})
	}
}

func TestRenderConcurrent(t *testing.T) {
	r := New()
	var want bytes.Buffer
	if err := r.Render(context.Background(), req("16:9", "image/png"), &want); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			for range 2 {
				var b bytes.Buffer
				if err := r.Render(context.Background(), req("16:9", "image/png"), &b); err != nil {
					t.Error(err)
					return
				}
				if !bytes.Equal(b.Bytes(), want.Bytes()) {
					t.Error("concurrent render differs")
				}
			}
		})
	}
	wg.Wait()
}

func TestWrap(t *testing.T) {
	r := New()
	face := r.typeset(false, 40)
	defer r.releaseTypeset(false, face)
	tests := map[string]struct {
		text         string
		width, lines int
		wantLines    int
		wantEllipsis bool
	}{
		"fits":         {"short prompt", 800, 5, 1, false},
		"wraps":        {strings.Repeat("word ", 40), 400, 20, 0, false},
		"ellipsised":   {strings.Repeat("word ", 200), 400, 3, 3, true},
		"long word":    {strings.Repeat("x", 200), 300, 50, 0, false},
		"one line cap": {strings.Repeat("word ", 50), 300, 1, 1, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, whole := wrap(face, tc.text, tc.width, tc.lines)
			if whole == tc.wantEllipsis {
				t.Errorf("whole = %v with ellipsis %v", whole, tc.wantEllipsis)
			}
			if tc.wantLines > 0 && len(got) != tc.wantLines {
				t.Errorf("%d lines, want %d: %q", len(got), tc.wantLines, got)
			}
			if len(got) > tc.lines {
				t.Errorf("%d lines, more than %d", len(got), tc.lines)
			}
			for _, l := range got {
				if w := face.measure(l); w > tc.width {
					t.Errorf("line %q is %d px, wider than %d", l, w, tc.width)
				}
			}
			if has := strings.HasSuffix(got[len(got)-1], "…"); has != tc.wantEllipsis {
				t.Errorf("last line %q: ellipsis %v, want %v", got[len(got)-1], has, tc.wantEllipsis)
			}
			joined := strings.ReplaceAll(strings.Join(got, ""), " ", "")
			if !tc.wantEllipsis && joined != strings.ReplaceAll(tc.text, " ", "") {
				t.Errorf("text lost in wrapping: %q", got)
			}
		})
	}
}

func TestEncodePNGRoundTrip(t *testing.T) {
	tests := map[string]struct{ w, h int }{
		"1x1":     {1, 1},
		"3x2":     {3, 2},
		"wide":    {257, 3},
		"tall":    {5, 300},
		"squares": {64, 64},
	}
	sc := new(pngScratch) // shared, as the pool shares it
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			img := image.NewRGBA(image.Rect(0, 0, tc.w, tc.h))
			x := uint32(len(name))
			for i := range img.Pix {
				x = x*1664525 + 1013904223
				img.Pix[i] = byte(x >> 24)
				if i%4 == 3 {
					img.Pix[i] = 255
				}
			}
			var b bytes.Buffer
			if err := encodePNG(&b, img, sc); err != nil {
				t.Fatal(err)
			}
			got, err := png.Decode(&b)
			if err != nil {
				t.Fatalf("image/png cannot read it: %v", err)
			}
			if got.Bounds() != img.Bounds() {
				t.Fatalf("bounds %v, want %v", got.Bounds(), img.Bounds())
			}
			for y := range tc.h {
				for x := range tc.w {
					r1, g1, b1, _ := got.At(x, y).RGBA()
					r2, g2, b2, _ := img.At(x, y).RGBA()
					if r1 != r2 || g1 != g2 || b1 != b2 {
						t.Fatalf("pixel %d,%d = %v, want %v", x, y, got.At(x, y), img.At(x, y))
					}
				}
			}
		})
	}
}

// TestWriteSamples writes samples to $DRAFT_SAMPLE_DIR for a person to look at.
func TestWriteSamples(t *testing.T) {
	dir := os.Getenv("DRAFT_SAMPLE_DIR")
	if dir == "" {
		t.Skip("set DRAFT_SAMPLE_DIR to write samples")
	}
	r := New()
	long := "an extraordinarily detailed baroque cathedral interior, golden light streaming through stained glass windows onto marble floors, volumetric fog, ultra wide angle, 8k, cinematic composition with a lone figure in a red cloak standing at the altar, painted in the style of a renaissance master with dramatic chiaroscuro and intricate ornamentation everywhere"
	samples := map[string]executor.Request{
		"draft-sample.png":   req("16:9", "image/png"),
		"draft-long.png":     {Addr: addrs.MustParse(`image.icon["cathedral"]`), Inputs: state.Inputs{Prompt: long, Style: "realistic", AspectRatio: "9:16", Seed: 4294967295}, MediaType: "image/png"},
		"draft-square.jpg":   {Addr: addrs.Addr{Name: "logo"}, Inputs: state.Inputs{Prompt: "flat icon of a house", Style: "imagine-turbo", AspectRatio: "1:1"}, MediaType: "image/jpeg"},
		"draft-portrait.png": {Addr: addrs.MustParse("image.variant[3]"), Inputs: state.Inputs{Prompt: long[:120], Style: "anime", AspectRatio: "3:4", Seed: 7}, MediaType: "image/png"},
		"draft-cjk.png":      {Addr: addrs.MustParse(`image.poster["東京"]`), Inputs: state.Inputs{Prompt: "東京の夜景 at dusk, a cat 🐈‍⬛ on a café terrace 👍🏽 — flux-dev · 1:1", Style: "flux-dev-fast", AspectRatio: "16:9", Seed: 12}, MediaType: "image/png"},
		"draft-icon.png":     {Addr: addrs.Addr{Name: "icon", Kind: addrs.StringKey, Key: "home"}, Inputs: state.Inputs{Prompt: "flat minimal icon of a small house, neon outline", Style: "imagine-turbo", AspectRatio: "1:1", Seed: 2905487256}, MediaType: "image/png"},
	}
	for name, q := range samples {
		var b bytes.Buffer
		if err := r.Render(context.Background(), q, &b); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func BenchmarkRender(b *testing.B) {
	cases := map[string]executor.Request{
		"png-16x9":  req("16:9", "image/png"),
		"png-1x1":   req("1:1", "image/png"),
		"jpeg-16x9": req("16:9", "image/jpeg"),
		"jpeg-1x1":  req("1:1", "image/jpeg"),
	}
	for _, name := range []string{"png-16x9", "png-1x1", "jpeg-16x9", "jpeg-1x1"} {
		q := cases[name]
		b.Run(name, func(b *testing.B) {
			r := New()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				var buf bytes.Buffer
				for pb.Next() {
					buf.Reset()
					if err := r.Render(context.Background(), q, &buf); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
}
