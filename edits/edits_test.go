package edits

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"slices"
	"strings"
	"testing"
)

func encPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewNRGBA(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewRGBA(image.Rect(0, 0, w, h)), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestPath(t *testing.T) {
	tests := map[string]struct {
		op, want, err string
	}{
		"remove-background": {op: RemoveBackground, want: "/image/background/remover"},
		"upscale":           {op: Upscale, want: "/image/enhance"},
		"generative-fill":   {op: GenerativeFill, want: "/image/edits/generative-fill"},
		"ai-background":     {op: AIBackground, want: "/image/generations/ai-background"},
		"transparent":       {op: Transparent, want: "/image/generations/transparent"},
		"local":             {op: Resize, err: "resize is a local operation"},
		"unknown":           {op: "ai-resize", err: `unknown operation "ai-resize": use one of "remove-background", "upscale", "generative-fill", "ai-background", or transparent`},
		"empty":             {op: "", err: `unknown operation ""`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Path(tt.op)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Path(%q) = %q, %v; want error containing %q", tt.op, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Path(%q) = %q, %v; want %q", tt.op, got, err, tt.want)
			}
		})
	}
}

func TestURL(t *testing.T) {
	tests := map[string]struct {
		base, op, want string
		err            []string // substrings of the error
		notInErr       []string
	}{
		"vendor": {base: "https://api.vyro.ai/v2/image/generations", op: Upscale, want: "https://api.vyro.ai/v2/image/enhance"},
		"transparent": {base: "https://api.vyro.ai/v2/image/generations", op: Transparent,
			want: "https://api.vyro.ai/v2/image/generations/transparent"},
		"ai-background": {base: "http://127.0.0.1:8080/v2/image/generations", op: AIBackground,
			want: "http://127.0.0.1:8080/v2/image/generations/ai-background"},
		"proxy prefix and query kept": {base: "https://proxy.example/imagine/v2/image/generations?team=a", op: RemoveBackground,
			want: "https://proxy.example/imagine/v2/image/background/remover?team=a"},
		"escaped prefix kept": {base: "https://proxy.example/a%2Fb/image/generations", op: GenerativeFill,
			want: "https://proxy.example/a%2Fb/image/edits/generative-fill"},
		"no version": {base: "http://localhost/image/generations", op: Upscale, want: "http://localhost/image/enhance"},
		"trailing slash": {base: "https://api.vyro.ai/v2/image/generations/", op: Upscale,
			err: []string{"IMAGINE_API_URL https://api.vyro.ai/v2/image/generations/ does not end in /image/generations", "upscale endpoint (/image/enhance)", "set IMAGINE_API_URL"}},
		"other path, secrets hidden": {base: "https://user:hunter2@proxy.example/render?key=sekrit", op: Upscale,
			err:      []string{"https://proxy.example/render does not end in /image/generations"},
			notInErr: []string{"hunter2", "sekrit", "user"}},
		"not http": {base: "ftp://h/v2/image/generations", op: Upscale, err: []string{"not an http(s) URL"}},
		"no host":  {base: "/v2/image/generations", op: Upscale, err: []string{"(without scheme and host) is not an http(s) URL"}},
		"unparsable, secret hidden": {base: "https://u:sekrit@h:port/v2/image/generations", op: Upscale,
			err: []string{"IMAGINE_API_URL is not a URL"}, notInErr: []string{"sekrit"}},
		"fragment": {base: "https://h/v2/image/generations#x", op: Upscale, err: []string{"#fragment"}},
		"local op": {base: "https://h/v2/image/generations", op: Crop, err: []string{"local operation"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := URL(tt.base, tt.op)
			if tt.err != nil {
				if err == nil {
					t.Fatalf("URL(%q, %q) = %q; want an error", tt.base, tt.op, got)
				}
				for _, s := range tt.err {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q lacks %q", err, s)
					}
				}
				for _, s := range tt.notInErr {
					if strings.Contains(err.Error(), s) {
						t.Errorf("error %q shows %q", err, s)
					}
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("URL(%q, %q) = %q, %v; want %q", tt.base, tt.op, got, err, tt.want)
			}
		})
	}
}

func TestMetadata(t *testing.T) {
	if got, want := Ops(), []string{RemoveBackground, Upscale, GenerativeFill, AIBackground}; !slices.Equal(got, want) {
		t.Errorf("Ops() = %q, want %q", got, want)
	}
	tests := map[string]struct {
		prompt, mask, seed, ratio, local bool
	}{
		RemoveBackground: {},
		Upscale:          {},
		GenerativeFill:   {prompt: true, mask: true},
		AIBackground:     {prompt: true, seed: true},
		Transparent:      {prompt: true, seed: true, ratio: true},
		Resize:           {local: true},
		Crop:             {local: true},
		Convert:          {local: true},
		"nonsense":       {},
	}
	for op, tt := range tests {
		t.Run(op, func(t *testing.T) {
			p, m := Needs(op)
			s, r := Accepts(op)
			if p != tt.prompt || m != tt.mask || s != tt.seed || r != tt.ratio || Local(op) != tt.local {
				t.Errorf("Needs = %v %v, Accepts = %v %v, Local = %v; want %+v", p, m, s, r, Local(op), tt)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	img, mask := encPNG(t, 40, 30), encPNG(t, 40, 30)
	jpg := encJPEG(t, 40, 30)
	tests := map[string]struct {
		req   Request
		field string // "" = no error
		msg   string
	}{
		"remove-background":       {req: Request{Op: RemoveBackground, Image: img}},
		"upscale jpeg":            {req: Request{Op: Upscale, Image: jpg}},
		"fill":                    {req: Request{Op: GenerativeFill, Image: jpg, Mask: mask, Prompt: "grass"}},
		"background":              {req: Request{Op: AIBackground, Image: img, Prompt: "marble", Seed: 7}},
		"transparent":             {req: Request{Op: Transparent, Prompt: "logo", AspectRatio: "16:9", Seed: 4294967295}},
		"transparent defaults":    {req: Request{Op: Transparent, Prompt: "logo"}},
		"no image":                {req: Request{Op: Upscale}, field: "image", msg: "upscale: a source image is required (from)"},
		"image not an image":      {req: Request{Op: Upscale, Image: []byte("GIF89a")}, field: "image", msg: "upscale: the source image is neither a PNG nor a JPEG"},
		"image truncated":         {req: Request{Op: Upscale, Image: img[:20]}, field: "image", msg: "is not a readable PNG"},
		"prompt on upscale":       {req: Request{Op: Upscale, Image: img, Prompt: "x"}, field: "prompt", msg: "upscale: takes no prompt: the Image Upscale endpoint has none; remove it"},
		"seed on remover":         {req: Request{Op: RemoveBackground, Image: img, Seed: 3}, field: "seed", msg: "takes no seed"},
		"ratio on background":     {req: Request{Op: AIBackground, Image: img, Prompt: "p", AspectRatio: "1:1"}, field: "aspect_ratio", msg: "takes no aspect_ratio"},
		"mask on upscale":         {req: Request{Op: Upscale, Image: img, Mask: mask}, field: "mask", msg: "takes no mask: only generative-fill does"},
		"fill without mask":       {req: Request{Op: GenerativeFill, Image: img, Prompt: "p"}, field: "mask", msg: "generative-fill: a mask is required"},
		"fill without prompt":     {req: Request{Op: GenerativeFill, Image: img, Mask: mask, Prompt: " \n"}, field: "prompt", msg: "generative-fill: a prompt is required (what to paint into the masked region)"},
		"fill mask of other size": {req: Request{Op: GenerativeFill, Image: img, Mask: encPNG(t, 30, 40), Prompt: "p"}, field: "mask", msg: "the mask is 30×40 but the image is 40×30"},
		"fill mask not an image":  {req: Request{Op: GenerativeFill, Image: img, Mask: []byte("xx"), Prompt: "p"}, field: "mask", msg: "the mask is neither a PNG nor a JPEG"},
		"background no prompt":    {req: Request{Op: AIBackground, Image: img}, field: "prompt", msg: "the background to put behind the subject"},
		"transparent with image":  {req: Request{Op: Transparent, Prompt: "p", Image: img}, field: "image", msg: "takes no source image"},
		"transparent bad ratio":   {req: Request{Op: Transparent, Prompt: "p", AspectRatio: "2:1"}, field: "aspect_ratio", msg: `aspect ratio "2:1" is not one the Text to PNG endpoint accepts: use one of "1:1", "3:2", "4:3", "3:4", "16:9", "9:16"`},
		"seed too large":          {req: Request{Op: Transparent, Prompt: "p", Seed: 4294967296}, field: "seed", msg: "seed 4294967296 is out of range: use an integer from 1 to 4294967295"},
		"seed negative":           {req: Request{Op: AIBackground, Image: img, Prompt: "p", Seed: -1}, field: "seed", msg: "out of range"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			err := tt.req.Check()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Check() = %v, want nil", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Check() = %v, want a *FieldError", err)
			}
			if fe.Field != tt.field || fe.Op != tt.req.Op || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Check() = %q (field %q); want field %q, message containing %q", err, fe.Field, tt.field, tt.msg)
			}
		})
	}
	for _, op := range []string{"", "crop", "ai-resize"} {
		var fe *FieldError
		if err := (Request{Op: op}).Check(); err == nil || errors.As(err, &fe) {
			t.Errorf("Check of op %q = %v, want a plain error", op, err)
		}
	}
}

func TestDimensions(t *testing.T) {
	for name, data := range map[string][]byte{"png": encPNG(t, 7, 9), "jpeg": encJPEG(t, 7, 9)} {
		w, h, err := Dimensions(data)
		if err != nil || w != 7 || h != 9 {
			t.Errorf("%s: Dimensions = %d, %d, %v; want 7, 9", name, w, h, err)
		}
	}
}
