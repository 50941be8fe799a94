package config

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFormat(t *testing.T) {
	tests := map[string]struct {
		src     string
		want    string
		wantErr string // summary of the first error, "" for none
	}{
		"aligns equals signs": {
			src:  "image \"a\" {\nprompt = \"x\"\n  aspect_ratio=\"1:1\"\n}\n",
			want: "image \"a\" {\n  prompt       = \"x\"\n  aspect_ratio = \"1:1\"\n}\n",
		},
		"already canonical": {
			src:  "image \"a\" {\n  prompt = \"x\"\n}\n",
			want: "image \"a\" {\n  prompt = \"x\"\n}\n",
		},
		"keeps comments": {
			src:  "# top\nimage   \"a\"   { # label\n    prompt = \"x\" # why\n}\n",
			want: "# top\nimage \"a\" {    # label\n  prompt = \"x\" # why\n}\n",
		},
		"refuses a file that does not parse": {
			src:     "image \"a\" {\n  prompt = \n",
			wantErr: "Invalid expression",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out, diags := Format([]byte(tc.src), "main.pix.hcl")
			if tc.wantErr != "" {
				if !diags.HasErrors() || diags[0].Summary != tc.wantErr {
					t.Fatalf("diags = %s, want %q", render(diags), tc.wantErr)
				}
				if out != nil {
					t.Errorf("output %q for a file that does not parse", out)
				}
				if diags[0].Subject == nil || diags[0].Subject.Filename != "main.pix.hcl" {
					t.Errorf("error not ranged in main.pix.hcl: %s", render(diags))
				}
				return
			}
			if diags.HasErrors() {
				t.Fatalf("diags:%s", render(diags))
			}
			if string(out) != tc.want {
				t.Errorf("Format:\n%s\nwant:\n%s", out, tc.want)
			}
			again, _ := Format(out, "main.pix.hcl")
			if string(again) != string(out) {
				t.Errorf("Format is not idempotent:\n%s\nthen:\n%s", out, again)
			}
		})
	}
}

// TestExamplesAreFormatted keeps the examples in canonical layout.
func TestExamplesAreFormatted(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "examples", "*", "*.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range files {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out, diags := Format(src, p)
		if diags.HasErrors() || string(out) != string(src) {
			t.Errorf("%s is not canonically formatted (run pixform fmt)", p)
		}
	}
}
