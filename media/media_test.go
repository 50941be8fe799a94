package media

import "testing"

func TestOfPath(t *testing.T) {
	tests := map[string]struct {
		path, want string
	}{
		"png":          {path: "a/b.png", want: PNG},
		"upper png":    {path: "B.PNG", want: PNG},
		"jpg":          {path: "x.jpg", want: JPEG},
		"mixed jpeg":   {path: "x.JpEg", want: JPEG},
		"webp refused": {path: "x.webp"},
		"no extension": {path: "x"},
		"dot in dir":   {path: "a.png/x"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := OfPath(tc.path)
			if got != tc.want || ok != (tc.want != "") {
				t.Errorf("OfPath(%q) = %q, %v; want %q", tc.path, got, ok, tc.want)
			}
		})
	}
}

func TestOfExt(t *testing.T) {
	tests := map[string]string{".png": PNG, ".jpg": JPEG, ".jpeg": JPEG, ".PNG": "", ".gif": "", "": "", "png": ""}
	for ext, want := range tests {
		if got, ok := OfExt(ext); got != want || ok != (want != "") {
			t.Errorf("OfExt(%q) = %q, %v; want %q", ext, got, ok, want)
		}
	}
}

func TestKnownAndOfFormat(t *testing.T) {
	for _, f := range []string{"png", "jpeg"} {
		if mt := OfFormat(f); !Known(mt) {
			t.Errorf("OfFormat(%q) = %q, not Known", f, mt)
		}
	}
	if mt := OfFormat("webp"); Known(mt) || mt != "image/webp" {
		t.Errorf("OfFormat(webp) = %q (Known %v), want image/webp, not known", mt, Known(mt))
	}
}

// Ext names the extension OfExt reads back as the same media type.
func TestExt(t *testing.T) {
	for _, mt := range []string{PNG, JPEG} {
		if got, ok := OfExt(Ext(mt)); !ok || got != mt {
			t.Errorf("OfExt(Ext(%q)) = %q, %v", mt, got, ok)
		}
	}
}
