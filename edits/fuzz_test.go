package edits

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzURL: any IMAGINE_API_URL gives either an endpoint URL on the same
// scheme and host, with the same query, whose path ends in the operation's
// path, or an error; and an error never shows a secret put into the URL's
// user information or query.
func FuzzURL(f *testing.F) {
	for _, s := range []string{
		"https://api.vyro.ai/v2/image/generations",
		"http://127.0.0.1:1/v2/image/generations?k=v",
		"https://u:p@h/x/image/generations",
		"https://h/a%2Fb/image/generations",
		"https://h/image/generations/",
		"//h/image/generations",
		"https://[::1]:80/image/generations#f",
		"https://h/%zz/image/generations",
	} {
		f.Add(s, 0)
	}
	ops := append(Ops(), Transparent, Resize, "")
	f.Fuzz(func(t *testing.T, base string, i int) {
		op := ops[uint(i)%uint(len(ops))]
		got, err := URL(base, op)
		if err == nil {
			p, _ := Path(op)
			b, _ := url.Parse(base)
			u, err := url.Parse(got)
			if err != nil {
				t.Fatalf("URL(%q, %q) = %q, which does not parse: %v", base, op, got, err)
			}
			if u.Scheme != b.Scheme || u.Host != b.Host || !strings.HasSuffix(u.Path, p) || u.RawQuery != b.RawQuery {
				t.Fatalf("URL(%q, %q) = %q: not the endpoint beside it", base, op, got)
			}
		}
		// The same URL, carrying secrets.
		u, perr := url.Parse(base)
		if perr != nil {
			return
		}
		u.User = url.UserPassword("pixfuser", "S3CR3T-pw")
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += "k=S3CR3T-q"
		withSecrets := u.String()
		if _, err := URL(withSecrets, op); err != nil && (strings.Contains(err.Error(), "S3CR3T") || strings.Contains(err.Error(), "pixfuser")) {
			t.Fatalf("URL(%q) error shows a secret: %v", withSecrets, err)
		}
	})
}

// FuzzCheck: any bytes as an image and a mask (a checked-in file may be
// anything) give no panic, and a request Check passes has an image and a
// mask whose headers read, of the same dimensions.
func FuzzCheck(f *testing.F) {
	png := encPNG(f, 8, 6)
	f.Add(png, png, "p", int64(1))
	f.Add(encJPEG(f, 8, 6), encPNG(f, 6, 8), "", int64(0))
	f.Add(png[:30], []byte("\xff\xd8\xff"), " ", int64(-1))
	f.Fuzz(func(t *testing.T, image, mask []byte, prompt string, seed int64) {
		for _, op := range append(Ops(), Transparent) {
			r := Request{Op: op, Image: image, Mask: mask, Prompt: prompt, Seed: seed}
			if err := r.Check(); err != nil {
				continue
			}
			s, _ := Lookup(op)
			if !s.Image {
				continue
			}
			iw, ih, err := Dimensions(image)
			if err != nil {
				t.Fatalf("%s: Check passed an image whose header does not read: %v", op, err)
			}
			if s.Mask {
				mw, mh, err := Dimensions(mask)
				if err != nil || mw != iw || mh != ih {
					t.Fatalf("%s: Check passed a mask %dx%d (%v) for an image %dx%d", op, mw, mh, err, iw, ih)
				}
			}
		}
	})
}
