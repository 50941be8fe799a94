package config

import (
	"strings"
	"testing"
)

func TestStoreBlock(t *testing.T) {
	tests := map[string]struct {
		src     string
		opts    LoadOptions
		want    string // the URL, "" for no store
		diag    string // summary of the one diagnostic expected
		diagAt  string
		details []string
	}{
		"none": {
			src: "image \"a\" {\n  prompt = \"x\"\n}\n",
		},
		"url": {
			src:  "store {\n  url = \"s3://bucket/pre?region=eu-west-1\"\n}\nimage \"a\" {\n  prompt = \"x\"\n}\n",
			want: "s3://bucket/pre?region=eu-west-1",
		},
		"url from a variable": {
			src:  "variable \"b\" {\n  default = \"file:///srv/x\"\n}\nstore {\n  url = var.b\n}\nimage \"a\" {\n  prompt = \"x\"\n}\n",
			want: "file:///srv/x",
		},
		"missing url": {
			src:     "store {\n}\nimage \"a\" {\n  prompt = \"x\"\n}\n",
			diag:    "Missing store url",
			diagAt:  "main.pix.hcl:1,1",
			details: []string{"url =", "s3://"},
		},
		"empty url": {
			src:    "store {\n  url = \"  \"\n}\nimage \"a\" {\n  prompt = \"x\"\n}\n",
			diag:   "Missing store url",
			diagAt: "main.pix.hcl:2,9",
		},
		"url not a string": {
			src:    "store {\n  url = [\"a\"]\n}\nimage \"a\" {\n  prompt = \"x\"\n}\n",
			diag:   "Invalid value for url",
			diagAt: "main.pix.hcl:2,9",
		},
		"url without a scheme": {
			src:     "store {\n  url = \"my-bucket/x\"\n}\nimage \"a\" {\n  prompt = \"x\"\n}\n",
			diag:    "Invalid store url",
			diagAt:  "main.pix.hcl:2,9",
			details: []string{"s3://", "file:///"},
		},
		"unknown argument": {
			src:    "store {\n  url = \"mem://\"\n  bucket = \"x\"\n}\nimage \"a\" {\n  prompt = \"x\"\n}\n",
			diag:   "Unsupported argument",
			diagAt: "main.pix.hcl:3,3",
		},
		"two blocks": {
			src:     "store {\n  url = \"mem://\"\n}\nstore {\n  url = \"mem://\"\n}\nimage \"a\" {\n  prompt = \"x\"\n}\n",
			diag:    "Duplicate store block",
			diagAt:  "main.pix.hcl:4,1",
			details: []string{"main.pix.hcl:1:1"},
		},
		"a label": {
			src:    "store \"s3\" {\n  url = \"mem://\"\n}\nimage \"a\" {\n  prompt = \"x\"\n}\n",
			diag:   "Extraneous label for store",
			diagAt: "main.pix.hcl:1,7",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg, diags := Load(writeDir(t, map[string]string{"main.pix.hcl": tc.src}), tc.opts)
			if tc.diag == "" {
				if len(diags) > 0 {
					t.Fatalf("unexpected diagnostics:%s", render(diags))
				}
				got := ""
				if cfg.Store != nil {
					got = cfg.Store.URL
				}
				if got != tc.want {
					t.Errorf("store URL = %q, want %q", got, tc.want)
				}
				return
			}
			if len(diags) != 1 || diags[0].Summary != tc.diag || at(diags[0]) != tc.diagAt {
				t.Fatalf("want one diagnostic %q at %s, got:%s", tc.diag, tc.diagAt, render(diags))
			}
			for _, s := range tc.details {
				if !strings.Contains(diags[0].Detail, s) {
					t.Errorf("detail %q lacks %q", diags[0].Detail, s)
				}
			}
		})
	}
}

// TestStoreNotInDigest checks that a store block leaves the configuration
// digest alone: a saved plan stays valid whichever store serves it.
func TestStoreNotInDigest(t *testing.T) {
	img := "image \"a\" {\n  prompt = \"x\"\n}\n"
	a := mustLoad(t, map[string]string{"main.pix.hcl": img}, LoadOptions{})
	b := mustLoad(t, map[string]string{"main.pix.hcl": "store {\n  url = \"mem://\"\n}\n" + img}, LoadOptions{})
	if a.Digest != b.Digest {
		t.Errorf("digest changed with a store block: %s vs %s", a.Digest, b.Digest)
	}
}
