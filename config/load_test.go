package config

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// wantDiag is one expected diagnostic: its summary, where it points, and
// words its detail must hold.
type wantDiag struct {
	summary string
	at      string
	detail  []string
}

// sortKey orders diagnostics as Load must: by file, line and column, those
// without a range first.
func sortKey(d *hcl.Diagnostic) string {
	if d.Subject == nil {
		return ""
	}
	return fmt.Sprintf("%s\x00%09d\x00%09d", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
}

func TestLoadDiagnostics(t *testing.T) {
	tests := map[string]struct {
		files map[string]string
		opts  LoadOptions
		setup func(t *testing.T, dir string)
		want  []wantDiag
	}{
		"missing prompt": {
			files: map[string]string{"main.pix.hcl": "image \"hero\" {\n  seed = 1\n}\n"},
			want:  []wantDiag{{"Missing prompt", "main.pix.hcl:1,7", []string{`image "hero"`, "prompt ="}}},
		},
		"null prompt": {
			files: map[string]string{"main.pix.hcl": "image \"hero\" {\n  prompt = null\n}\n"},
			want:  []wantDiag{{"Missing prompt", "main.pix.hcl:2,12", nil}},
		},
		"empty prompt": {
			files: map[string]string{"main.pix.hcl": "image \"hero\" {\n  prompt = \"   \"\n}\n"},
			want:  []wantDiag{{"Empty prompt", "main.pix.hcl:2,12", nil}},
		},
		"prompt of wrong type": {
			files: map[string]string{"main.pix.hcl": "image \"hero\" {\n  prompt = [\"a\"]\n}\n"},
			want:  []wantDiag{{"Invalid value for prompt", "main.pix.hcl:2,12", []string{"string"}}},
		},
		"unsupported aspect ratio": {
			files: map[string]string{"main.pix.hcl": "image \"hero\" {\n  prompt = \"x\"\n  aspect_ratio = \"5:4\"\n}\n"},
			want:  []wantDiag{{"Unsupported aspect ratio", "main.pix.hcl:3,18", []string{`"5:4"`, `"1:1"`, `"9:16"`}}},
		},
		"aspect ratio typo suggests": {
			files: map[string]string{"main.pix.hcl": "image \"hero\" {\n  prompt = \"x\"\n  aspect_ratio = \"16x9\"\n}\n"},
			want:  []wantDiag{{"Unsupported aspect ratio", "main.pix.hcl:3,18", []string{`Did you mean "16:9"?`}}},
		},
		"unsupported style": {
			files: map[string]string{"main.pix.hcl": "image \"hero\" {\n  prompt = \"x\"\n  style = \"flux-devv\"\n}\n"},
			want:  []wantDiag{{"Unsupported style", "main.pix.hcl:3,11", []string{`Did you mean "flux-dev"?`, `"sdxl-1.0"`}}},
		},
		"seed zero": {
			files: map[string]string{"main.pix.hcl": "image \"hero\" {\n  prompt = \"x\"\n  seed = 0\n}\n"},
			want:  []wantDiag{{"Invalid seed", "main.pix.hcl:3,10", []string{"4294967295", "Leave seed out"}}},
		},
		"seed too large": {
			files: map[string]string{"main.pix.hcl": "image \"hero\" {\n  prompt = \"x\"\n  seed = 4294967296\n}\n"},
			want:  []wantDiag{{"Invalid seed", "main.pix.hcl:3,10", []string{"4294967296"}}},
		},
		"seed fractional": {
			files: map[string]string{"main.pix.hcl": "image \"hero\" {\n  prompt = \"x\"\n  seed = 1.5\n}\n"},
			want:  []wantDiag{{"Invalid seed", "main.pix.hcl:3,10", []string{"1.5"}}},
		},
		"seed negative": {
			files: map[string]string{"main.pix.hcl": "image \"hero\" {\n  prompt = \"x\"\n  seed = -3\n}\n"},
			want:  []wantDiag{{"Invalid seed", "main.pix.hcl:3,10", nil}},
		},
		"candidates zero": {
			files: map[string]string{"main.pix.hcl": "image \"hero\" {\n  prompt = \"x\"\n  candidates = 0\n}\n"},
			want:  []wantDiag{{"Invalid candidates", "main.pix.hcl:3,16", []string{"from 1 to 16, not 0", "pixform pick"}}},
		},
		"candidates too many": {
			files: map[string]string{"main.pix.hcl": "image \"hero\" {\n  prompt = \"x\"\n  candidates = 17\n}\n"},
			want:  []wantDiag{{"Invalid candidates", "main.pix.hcl:3,16", []string{"not 17"}}},
		},
		"candidates of an instance": {
			files: map[string]string{"main.pix.hcl": "image \"v\" {\n  count = 2\n  prompt = \"x\"\n  candidates = count.index * 20 + 1\n}\n"},
			want:  []wantDiag{{"Invalid candidates", "main.pix.hcl:4,16", []string{"not 21", "image.v[1]"}}},
		},
		"candidates string": {
			files: map[string]string{"main.pix.hcl": "image \"hero\" {\n  prompt = \"x\"\n  candidates = \"many\"\n}\n"},
			want:  []wantDiag{{"Invalid value for candidates", "main.pix.hcl:3,16", nil}},
		},
		"absolute path": {
			files: map[string]string{"main.pix.hcl": "image \"hero\" {\n  prompt = \"x\"\n  path = \"/tmp/x.png\"\n}\n"},
			want:  []wantDiag{{"Absolute image path", "main.pix.hcl:3,10", []string{`"/tmp/x.png"`}}},
		},
		"windows absolute path": {
			files: map[string]string{"main.pix.hcl": "image \"hero\" {\n  prompt = \"x\"\n  path = \"C:/x.png\"\n}\n"},
			want:  []wantDiag{{"Absolute image path", "main.pix.hcl:3,10", nil}},
		},
		"path escapes with dot-dot": {
			files: map[string]string{"main.pix.hcl": "image \"hero\" {\n  prompt = \"x\"\n  path = \"assets/../../x.png\"\n}\n"},
			want:  []wantDiag{{"Image path escapes the working directory", "main.pix.hcl:3,10", []string{`"../x.png"`}}},
		},
		"path with backslash": {
			files: map[string]string{"main.pix.hcl": "image \"hero\" {\n  prompt = \"x\"\n  path = \"assets\\\\x.png\"\n}\n"},
			want:  []wantDiag{{"Backslash in image path", "main.pix.hcl:3,10", nil}},
		},
		"empty path": {
			files: map[string]string{"main.pix.hcl": "image \"hero\" {\n  prompt = \"x\"\n  path = \"\"\n}\n"},
			want:  []wantDiag{{"Empty image path", "main.pix.hcl:3,10", nil}},
		},
		"bad extension": {
			files: map[string]string{"main.pix.hcl": "image \"hero\" {\n  prompt = \"x\"\n  path = \"assets/x.gif\"\n}\n"},
			want:  []wantDiag{{"Unsupported image file extension", "main.pix.hcl:3,10", []string{".png, .jpg or .jpeg"}}},
		},
		"no extension": {
			files: map[string]string{"main.pix.hcl": "image \"hero\" {\n  prompt = \"x\"\n  path = \"assets/\"\n}\n"},
			want:  []wantDiag{{"Unsupported image file extension", "main.pix.hcl:3,10", nil}},
		},
		"symlinked directory escapes": {
			files: map[string]string{"main.pix.hcl": "image \"hero\" {\n  prompt = \"x\"\n  path = \"out/sub/x.png\"\n}\n"},
			setup: func(t *testing.T, dir string) {
				if err := os.Symlink(t.TempDir(), filepath.Join(dir, "out")); err != nil {
					t.Skip("no symlinks here:", err)
				}
			},
			want: []wantDiag{{"Image path goes through a symbolic link", "main.pix.hcl:3,10", []string{`symbolic link "out"`}}},
		},
		"symlinked file escapes": {
			files: map[string]string{"main.pix.hcl": "image \"hero\" {\n  prompt = \"x\"\n  path = \"assets/x.png\"\n}\n"},
			setup: func(t *testing.T, dir string) {
				outside := filepath.Join(t.TempDir(), "x.png")
				if err := os.WriteFile(outside, nil, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(filepath.Join(dir, "assets"), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(outside, filepath.Join(dir, "assets", "x.png")); err != nil {
					t.Skip("no symlinks here:", err)
				}
			},
			want: []wantDiag{{"Image path goes through a symbolic link", "main.pix.hcl:3,10", []string{`"assets/x.png" is a symbolic link`}}},
		},
		"dangling symlink": {
			files: map[string]string{"main.pix.hcl": "image \"hero\" {\n  prompt = \"x\"\n  path = \"gone/x.png\"\n}\n"},
			setup: func(t *testing.T, dir string) {
				if err := os.Symlink(filepath.Join(dir, "nowhere"), filepath.Join(dir, "gone")); err != nil {
					t.Skip("no symlinks here:", err)
				}
			},
			want: []wantDiag{{"Image path goes through a symbolic link", "main.pix.hcl:3,10", []string{`symbolic link "gone"`, "nowhere"}}},
		},
		"symlinked directory inside": {
			// Two paths would name one file (real/a.png and in/a.png),
			// which no duplicate check could see.
			files: map[string]string{"main.pix.hcl": `image "a" {
  prompt = "x"
  path   = "real/a.png"
}

image "b" {
  prompt = "y"
  path   = "in/a.png"
}
`, "real/keep.txt": ""},
			setup: func(t *testing.T, dir string) {
				if err := symlink("real", dir, "in"); err != nil {
					t.Skip("no symlinks here:", err)
				}
			},
			want: []wantDiag{{"Image path goes through a symbolic link", "main.pix.hcl:8,12", []string{`symbolic link "in" (to "real")`, "replace the link with the real directory"}}},
		},
		"path under .pixform": {
			files: map[string]string{"main.pix.hcl": "image \"hero\" {\n  prompt = \"x\"\n  path = \".pixform/x.png\"\n}\n"},
			want:  []wantDiag{{"Image path inside pixform's own directory", "main.pix.hcl:3,10", []string{`".pixform/x.png"`, "images/x.png"}}},
		},
		"path under .PIXFORM": {
			files: map[string]string{"main.pix.hcl": "image \"hero\" {\n  prompt = \"x\"\n  path = \"a/../.PIXFORM/cache/x.png\"\n}\n"},
			want:  []wantDiag{{"Image path inside pixform's own directory", "main.pix.hcl:3,10", []string{`"a/../.PIXFORM/cache/x.png"`, "any case"}}},
		},
		"path under .git": {
			files: map[string]string{"main.pix.hcl": "image \"hero\" {\n  prompt = \"x\"\n  path = \".GIT/x.png\"\n}\n"},
			want:  []wantDiag{{"Image path inside a version-control directory", "main.pix.hcl:3,10", []string{`".GIT/x.png"`, "version control's own data", "images/x.png"}}},
		},
		"path under a nested .git": {
			files: map[string]string{"main.pix.hcl": "image \"hero\" {\n  prompt = \"x\"\n  path = \"vendor/lib/.git/x.png\"\n}\n"},
			want:  []wantDiag{{"Image path inside a version-control directory", "main.pix.hcl:3,10", []string{`"vendor/lib/.git/x.png"`}}},
		},
		"path like .git is fine": {
			files: map[string]string{"main.pix.hcl": "image \"hero\" {\n  prompt = \"x\"\n  path = \".github/x.png\"\n}\n"},
		},
		"path like .pixform is fine": {
			files: map[string]string{"main.pix.hcl": "image \"hero\" {\n  prompt = \"x\"\n  path = \".pixform-assets/x.png\"\n}\n"},
		},
		"duplicate path in another case": {
			files: map[string]string{"main.pix.hcl": `image "a" {
  prompt = "x"
  path   = "assets/Hero.png"
}

image "b" {
  prompt = "y"
  path   = "ASSETS/hero.png"
}
`},
			want: []wantDiag{{"Duplicate image path", "main.pix.hcl:8,12", []string{"image.b", `"ASSETS/hero.png"`, "image.a (declared at main.pix.hcl:3:12)", `"assets/Hero.png"`, "case-insensitive"}}},
		},
		"default path from bad for_each key escapes": {
			files: map[string]string{"main.pix.hcl": "image \"icon\" {\n  for_each = toset([\"/../../../x\"])\n  prompt = \"x\"\n}\n"},
			want:  []wantDiag{{"Image path escapes the working directory", "main.pix.hcl:2,14", []string{`image.icon["/../../../x"]`}}},
		},
		"duplicate path": {
			files: map[string]string{"main.pix.hcl": `image "a" {
  prompt = "x"
  path   = "assets/x.png"
}

image "b" {
  prompt = "y"
  path   = "assets/./x.png"
}
`},
			want: []wantDiag{{"Duplicate image path", "main.pix.hcl:8,12", []string{"image.b", "image.a", "main.pix.hcl:3:12", `"assets/x.png"`}}},
		},
		"duplicate default path": {
			files: map[string]string{"main.pix.hcl": `image "a" {
  prompt = "x"
}

image "b" {
  prompt = "y"
  path   = "images/a.png"
}
`},
			want: []wantDiag{{"Duplicate image path", "main.pix.hcl:7,12", []string{"image.a (declared at main.pix.hcl:1:7)"}}},
		},
		"undeclared variable": {
			files: map[string]string{"main.pix.hcl": `variable "theme" {
  default = "neon"
}

image "hero" {
  prompt = "city, ${var.thme} lights"
}
`},
			want: []wantDiag{{"Reference to undeclared variable", "main.pix.hcl:6,21", []string{`No variable named "thme"`, `Did you mean "theme"?`}}},
		},
		"undeclared local": {
			files: map[string]string{"main.pix.hcl": `locals {
  city = "x"
}

image "hero" {
  prompt = local.cty
}
`},
			want: []wantDiag{{"Reference to undeclared local value", "main.pix.hcl:6,12", []string{`No local value named "cty"`, `Did you mean "city"?`}}},
		},
		"unknown reference root": {
			files: map[string]string{"main.pix.hcl": "image \"hero\" {\n  prompt = hero\n}\n"},
			want:  []wantDiag{{"Unknown reference", "main.pix.hcl:2,12", []string{`quote it: "hero"`}}},
		},
		"var used on its own": {
			files: map[string]string{"main.pix.hcl": "image \"hero\" {\n  prompt = var\n}\n"},
			want:  []wantDiag{{"Invalid reference", "main.pix.hcl:2,12", []string{"var.theme"}}},
		},
		"each outside for_each": {
			files: map[string]string{"main.pix.hcl": "image \"hero\" {\n  prompt = each.key\n}\n"},
			want:  []wantDiag{{`Reference to "each" outside for_each`, "main.pix.hcl:2,12", []string{`image "hero"`}}},
		},
		"count outside count": {
			files: map[string]string{"main.pix.hcl": "locals {\n  n = count.index\n}\n"},
			want:  []wantDiag{{`Reference to "count" outside count`, "main.pix.hcl:2,7", []string{"a locals block"}}},
		},
		"bad each attribute": {
			files: map[string]string{"main.pix.hcl": "image \"i\" {\n  for_each = toset([\"a\"])\n  prompt = each.kee\n}\n"},
			want:  []wantDiag{{"Invalid each attribute", "main.pix.hcl:3,16", []string{`Did you mean "key"?`}}},
		},
		"required variable not set": {
			files: map[string]string{"main.pix.hcl": "variable \"theme\" {\n  type = string\n}\n\nimage \"hero\" {\n  prompt = var.theme\n}\n"},
			want:  []wantDiag{{"No value for required variable", "main.pix.hcl:1,10", []string{"-var 'theme=...'", "-var-file", "PIXFORM_VAR_theme"}}},
		},
		"variable default of wrong type": {
			files: map[string]string{"main.pix.hcl": "variable \"n\" {\n  type    = number\n  default = \"many\"\n}\n"},
			want:  []wantDiag{{"Invalid value for variable", "main.pix.hcl:3,13", []string{"var.n", "number"}}},
		},
		"-var of wrong type": {
			files: map[string]string{"main.pix.hcl": "variable \"n\" {\n  type = number\n}\n"},
			opts:  LoadOptions{Vars: []string{"n=[1]"}},
			want:  []wantDiag{{"Invalid value for variable", "<value for var.n>:1,1", []string{"var.n", "-var"}}},
		},
		"-var for undeclared variable": {
			files: map[string]string{"main.pix.hcl": "variable \"theme\" {\n  default = \"x\"\n}\n"},
			opts:  LoadOptions{Vars: []string{"them=neon"}},
			want:  []wantDiag{{"Value for undeclared variable", "-", []string{`"them"`, `Did you mean "theme"?`}}},
		},
		"-var without equals": {
			files: map[string]string{"main.pix.hcl": "variable \"theme\" {\n  default = \"x\"\n}\n"},
			opts:  LoadOptions{Vars: []string{"theme"}},
			want:  []wantDiag{{"Invalid -var option", "-", []string{"NAME=VALUE"}}},
		},
		"var file sets undeclared variable": {
			files: map[string]string{
				"main.pix.hcl":      "variable \"theme\" {\n  default = \"x\"\n}\n",
				"local.pixvars.hcl": "theme = \"a\"\nthem = \"b\"\n",
			},
			want: []wantDiag{{"Value for undeclared variable", "local.pixvars.hcl:2,1", []string{`Did you mean "theme"?`}}},
		},
		"var file with a reference": {
			files: map[string]string{
				"main.pix.hcl":      "variable \"theme\" {\n  default = \"x\"\n}\n",
				"local.pixvars.hcl": "theme = var.other\n",
			},
			want: []wantDiag{{"Variables not allowed", "local.pixvars.hcl:1,9", nil}},
		},
		"missing -var-file": {
			files: map[string]string{"main.pix.hcl": "variable \"theme\" {\n  default = \"x\"\n}\n"},
			opts:  LoadOptions{VarFiles: []string{"nope.hcl"}},
			want:  []wantDiag{{"Cannot read file", "-", []string{"nope.hcl"}}},
		},
		"for_each over a list": {
			files: map[string]string{"main.pix.hcl": "image \"i\" {\n  for_each = [\"a\", \"b\"]\n  prompt = each.key\n}\n"},
			want:  []wantDiag{{"Invalid for_each argument", "main.pix.hcl:2,14", []string{"toset("}}},
		},
		"for_each over a set of numbers": {
			files: map[string]string{"main.pix.hcl": "image \"i\" {\n  for_each = toset([1, 2])\n  prompt = each.key\n}\n"},
			want:  []wantDiag{{"Invalid for_each argument", "main.pix.hcl:2,14", nil}},
		},
		"for_each null": {
			files: map[string]string{"main.pix.hcl": "image \"i\" {\n  for_each = null\n  prompt = \"x\"\n}\n"},
			want:  []wantDiag{{"Invalid for_each argument", "main.pix.hcl:2,14", []string{"null"}}},
		},
		"for_each referring to each": {
			files: map[string]string{"main.pix.hcl": "image \"i\" {\n  for_each = each.value\n  prompt = \"x\"\n}\n"},
			want:  []wantDiag{{`Reference to "each" outside for_each`, "main.pix.hcl:2,14", []string{`for_each of image "i"`}}},
		},
		"count negative": {
			files: map[string]string{"main.pix.hcl": "image \"v\" {\n  count = -1\n  prompt = \"x\"\n}\n"},
			want:  []wantDiag{{"Invalid count argument", "main.pix.hcl:2,11", []string{"whole number from 0"}}},
		},
		"count fractional": {
			files: map[string]string{"main.pix.hcl": "image \"v\" {\n  count = 2.5\n  prompt = \"x\"\n}\n"},
			want:  []wantDiag{{"Invalid count argument", "main.pix.hcl:2,11", []string{"2.5"}}},
		},
		"count too large": {
			files: map[string]string{"main.pix.hcl": "image \"v\" {\n  count = 1e9\n  prompt = \"x\"\n}\n"},
			want:  []wantDiag{{"Invalid count argument", "main.pix.hcl:2,11", nil}},
		},
		"count not a number": {
			files: map[string]string{"main.pix.hcl": "image \"v\" {\n  count = \"two\"\n  prompt = \"x\"\n}\n"},
			want:  []wantDiag{{"Invalid value for count", "main.pix.hcl:2,11", []string{"number"}}},
		},
		"for_each and count": {
			files: map[string]string{"main.pix.hcl": "image \"v\" {\n  for_each = toset([\"a\"])\n  count = 2\n  prompt = \"x\"\n}\n"},
			want:  []wantDiag{{"Invalid combination of count and for_each", "main.pix.hcl:3,3", nil}},
		},
		"duplicate image names across files": {
			files: map[string]string{
				"a.pix.hcl": "image \"hero\" {\n  prompt = \"x\"\n}\n",
				"b.pix.hcl": "\nimage \"hero\" {\n  prompt = \"y\"\n  path = \"b.png\"\n}\n",
			},
			want: []wantDiag{{"Duplicate image block", "b.pix.hcl:2,7", []string{"a.pix.hcl:1:1"}}},
		},
		"invalid image name": {
			files: map[string]string{"main.pix.hcl": "image \"my hero\" {\n  prompt = \"x\"\n}\n"},
			want:  []wantDiag{{"Invalid image name", "main.pix.hcl:1,7", nil}},
		},
		"duplicate variable": {
			files: map[string]string{"main.pix.hcl": "variable \"a\" {\n  default = 1\n}\nvariable \"a\" {\n  default = 2\n}\n"},
			want:  []wantDiag{{"Duplicate variable declaration", "main.pix.hcl:4,10", []string{"main.pix.hcl:1:1"}}},
		},
		"duplicate local": {
			files: map[string]string{"main.pix.hcl": "locals {\n  a = 1\n}\nlocals {\n  a = 2\n}\n"},
			want:  []wantDiag{{"Duplicate local value", "main.pix.hcl:5,3", []string{"main.pix.hcl:2:3"}}},
		},
		"local cycle": {
			files: map[string]string{"main.pix.hcl": "locals {\n  a = local.b\n  b = \"${local.a}!\"\n}\n"},
			want:  []wantDiag{{"Cycle in local values", "main.pix.hcl:2,7", []string{"local.a → local.b → local.a"}}},
		},
		"local self reference": {
			files: map[string]string{"main.pix.hcl": "locals {\n  a = local.a\n}\n"},
			want:  []wantDiag{{"Cycle in local values", "main.pix.hcl:2,7", []string{"local.a → local.a"}}},
		},
		"unknown block type": {
			files: map[string]string{"main.pix.hcl": "imag \"hero\" {\n}\n"},
			want:  []wantDiag{{"Unsupported block type", "main.pix.hcl:1,1", []string{`Did you mean "image"?`}}},
		},
		"unknown image argument": {
			files: map[string]string{"main.pix.hcl": "image \"hero\" {\n  prompt = \"x\"\n  aspectratio = \"1:1\"\n}\n"},
			want:  []wantDiag{{"Unsupported argument", "main.pix.hcl:3,3", []string{`Did you mean "aspect_ratio"?`}}},
		},
		"unknown function": {
			files: map[string]string{"main.pix.hcl": "image \"hero\" {\n  prompt = uuid()\n}\n"},
			want:  []wantDiag{{"Call to unknown function", "main.pix.hcl:2,12", nil}},
		},
		"no timestamp": {
			files: map[string]string{"main.pix.hcl": "image \"hero\" {\n  prompt = timestamp()\n}\n"},
			want:  []wantDiag{{"Call to unknown function", "main.pix.hcl:2,12", nil}},
		},
		"syntax error": {
			files: map[string]string{"main.pix.hcl": "image \"hero\" {\n  prompt = \"x\" +\n}\n"},
			want:  []wantDiag{{"Invalid expression", "main.pix.hcl:2,17", nil}},
		},
		"missing quote is one error, not one per line": {
			files: map[string]string{
				"main.pix.hcl": "image \"hero\" {\n  prompt = \"a city at night\n  seed   = 42\n  path   = \"assets/hero.png\"\n}\n\n" +
					"image \"logo\" {\n  prompt = \"a logo\"\n  seed   = 2\n}\n",
				"other.pix.hcl": "image \"x\" {\n  prompt = \"x\" +\n}\n",
			},
			want: []wantDiag{
				{"Missing closing quote", "main.pix.hcl:2,28", []string{"on line 2 has no closing quote", "(to line 10)", "the 8 other errors", "heredoc"}},
				{"Invalid expression", "other.pix.hcl:2,17", nil},
			},
		},
		"missing quote keeps the errors before it": {
			files: map[string]string{"main.pix.hcl": "image \"a\" {\n  prompt = \"x\" +\n}\nimage \"b\" {\n  prompt = \"y\n}\n"},
			want: []wantDiag{
				{"Invalid expression", "main.pix.hcl:2,17", nil},
				{"Missing closing quote", "main.pix.hcl:5,14", []string{"line 5"}},
			},
		},
		"unknown provider": {
			files: map[string]string{"main.pix.hcl": "provider \"imagin\" {\n}\n"},
			want:  []wantDiag{{"Unknown provider", "main.pix.hcl:1,10", []string{`Did you mean "imagine"?`, "-provider=draft"}}},
		},
		"duplicate provider": {
			files: map[string]string{"main.pix.hcl": "provider \"imagine\" {\n}\n\nprovider \"imagine\" {\n}\n"},
			want:  []wantDiag{{"Duplicate provider block", "main.pix.hcl:4,1", []string{"main.pix.hcl:1:1"}}},
		},
		"provider settings out of range": {
			files: map[string]string{"main.pix.hcl": `provider "imagine" {
  parallelism = 0
  max_retries = -1
  timeout     = "0s"
  style       = "anim"
}
`},
			want: []wantDiag{
				{"Unsupported style", "main.pix.hcl:5,17", []string{`Did you mean "anime"?`}},
				{"Invalid parallelism", "main.pix.hcl:2,17", []string{"at least 1"}},
				{"Invalid max_retries", "main.pix.hcl:3,17", []string{"at least 0"}},
				{"Invalid timeout", "main.pix.hcl:4,17", []string{"positive"}},
			},
		},
		"provider response bounds out of range": {
			files: map[string]string{"main.pix.hcl": `provider "imagine" {
  read_idle_timeout = "-1s"
  max_image_bytes   = 10
  max_image_pixels  = 1e12
}
`},
			want: []wantDiag{
				{"Invalid read_idle_timeout", "main.pix.hcl:2,23", []string{"positive", `"30s"`}},
				{"Invalid max_image_bytes", "main.pix.hcl:3,23", []string{"from 1024 to 1073741824", "50 MiB"}},
				{"Invalid max_image_pixels", "main.pix.hcl:4,23", []string{"268435456", "4096×4096"}},
			},
		},
		"max_image_bytes over the ceiling": {
			files: map[string]string{"main.pix.hcl": "provider \"imagine\" {\n  max_image_bytes = 1073741825\n}\n"},
			want:  []wantDiag{{"Invalid max_image_bytes", "main.pix.hcl:2,21", []string{"from 1024 to 1073741824 (1 GiB)", "not 1073741825", "50 MiB"}}},
		},
		"max_image_bytes far over the ceiling": {
			files: map[string]string{"main.pix.hcl": "provider \"imagine\" {\n  max_image_bytes = 1e30\n}\n"},
			want:  []wantDiag{{"Invalid max_image_bytes", "main.pix.hcl:2,21", []string{"1073741824"}}},
		},
		"provider timeout not a duration": {
			files: map[string]string{"main.pix.hcl": "provider \"imagine\" {\n  timeout = \"2 minutes\"\n}\n"},
			want:  []wantDiag{{"Invalid timeout", "main.pix.hcl:2,13", []string{`"120s"`}}},
		},
		"provider with each": {
			files: map[string]string{"main.pix.hcl": "provider \"imagine\" {\n  style = each.key\n}\n"},
			want:  []wantDiag{{`Reference to "each" outside for_each`, "main.pix.hcl:2,11", []string{"the provider block"}}},
		},
		"every problem at once": {
			files: map[string]string{"main.pix.hcl": `image "a" {
  prompt       = ""
  aspect_ratio = "2:1"
  seed         = 0
  style        = "pixel"
  path         = "/abs.png"
}

image "b" {
  count  = 2
  prompt = "v${count.index}"
  path   = "same.webp"
}
`},
			want: []wantDiag{
				{"Empty prompt", "main.pix.hcl:2,18", nil},
				{"Unsupported aspect ratio", "main.pix.hcl:3,18", nil},
				{"Invalid seed", "main.pix.hcl:4,18", nil},
				{"Unsupported style", "main.pix.hcl:5,18", nil},
				{"Absolute image path", "main.pix.hcl:6,18", nil},
				{"Unsupported image file extension", "main.pix.hcl:12,12", nil},
			},
		},
		"per-instance error names the instance": {
			files: map[string]string{"main.pix.hcl": `image "i" {
  for_each     = { a = "1:1", b = "5:5" }
  prompt       = "x"
  aspect_ratio = each.value
}
`},
			want: []wantDiag{{"Unsupported aspect ratio", "main.pix.hcl:4,18", []string{`image.i["b"]`}}},
		},
		"no configuration files": {
			files: map[string]string{"readme.txt": "hi"},
			want:  []wantDiag{{"No configuration files", "-", []string{"-chdir"}}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := writeDir(t, tc.files)
			if tc.setup != nil {
				tc.setup(t, dir)
			}
			cfg, diags := Load(dir, tc.opts)
			if cfg == nil {
				t.Fatal("Load returned a nil Config")
			}
			if len(diags) != len(tc.want) {
				t.Errorf("got %d diagnostics, want %d:%s", len(diags), len(tc.want), render(diags))
			}
			for _, w := range tc.want {
				var found *hcl.Diagnostic
				for _, d := range diags {
					if d.Summary == w.summary && at(d) == w.at {
						found = d
						break
					}
				}
				if found == nil {
					t.Errorf("no diagnostic %q at %s; got:%s", w.summary, w.at, render(diags))
					continue
				}
				for _, s := range w.detail {
					if !strings.Contains(found.Detail, s) {
						t.Errorf("%q: detail %q lacks %q", w.summary, found.Detail, s)
					}
				}
			}
			if !slices.IsSortedFunc(diags, func(a, b *hcl.Diagnostic) int { return strings.Compare(sortKey(a), sortKey(b)) }) {
				t.Errorf("diagnostics not sorted by file and line:%s", render(diags))
			}
			if diags.HasErrors() && cfg.Digest != "" {
				t.Errorf("Digest = %q with errors, want empty", cfg.Digest)
			}
		})
	}
}

// TestLoadDiagnosticsInSourceOrder checks that diagnostics found in
// different passes (decoding, then evaluation) come out by file and line.
func TestLoadDiagnosticsInSourceOrder(t *testing.T) {
	dir := writeDir(t, map[string]string{
		"b.pix.hcl": "image \"b\" {\n  prompt = \"p\"\n  seed = 0\n  sed = 2\n}\n",
		"a.pix.hcl": "image \"a\" {\n  prompt = \"p\"\n  seed = 0\n  sed = 2\n}\n",
	})
	_, diags := Load(dir, LoadOptions{})
	var got []string
	for _, d := range diags {
		got = append(got, at(d))
	}
	want := []string{"a.pix.hcl:3,10", "a.pix.hcl:4,3", "b.pix.hcl:3,10", "b.pix.hcl:4,3"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v:%s", got, want, render(diags))
	}
}

func TestLoadCandidates(t *testing.T) {
	dir := t.TempDir()
	src := "image \"hero\" {\n  prompt = \"x\"\n  candidates = 4\n}\nimage \"v\" {\n  for_each = { a = 1, b = 3 }\n  prompt = \"y\"\n  candidates = each.value\n}\nimage \"one\" {\n  prompt = \"z\"\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "main.pix.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, diags := Load(dir, LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	got := map[string]int{}
	for _, img := range cfg.Images {
		got[img.Addr.String()] = img.Candidates
	}
	want := map[string]int{"image.hero": 4, `image.v["a"]`: 1, `image.v["b"]`: 3, "image.one": 0}
	if !maps.Equal(got, want) {
		t.Fatalf("candidates %v, want %v", got, want)
	}
	before := cfg.Digest
	src2 := strings.Replace(src, "candidates = 4", "candidates = 5", 1)
	if err := os.WriteFile(filepath.Join(dir, "main.pix.hcl"), []byte(src2), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg2, _ := Load(dir, LoadOptions{})
	if cfg2.Digest == before {
		t.Fatal("the digest ignores candidates")
	}
}

// TestLoadFileTooLarge: a configuration or variable file over MaxFileBytes,
// or a link to something that is not a file, is refused with what it is
// and what to do, before it is read.
func TestLoadFileTooLarge(t *testing.T) {
	for _, tt := range []struct {
		name, file string
		make       func(p string) error
		want       []string
	}{
		{"configuration", "big.pix.hcl", func(p string) error { return os.Truncate(p, MaxFileBytes+1) },
			[]string{"Configuration file too large", "big.pix.hcl is 64.0 MiB", "at most 64 MiB", "several *.pix.hcl files"}},
		{"variables", "big.pixvars.hcl", func(p string) error { return os.Truncate(p, 3*MaxFileBytes/2) },
			[]string{"Configuration file too large", "big.pixvars.hcl is 96.0 MiB"}},
		{"link to a device", "dev.pix.hcl", func(p string) error {
			if err := os.Remove(p); err != nil {
				return err
			}
			return os.Symlink("/dev/zero", p)
		}, []string{"Configuration file links outside the working directory", "dev.pix.hcl is a symbolic link to /dev/zero"}},
		// A regular file to a stat, whose parse errors would print the
		// environment, the token with it.
		{"link to the environment", "env.pix.hcl", func(p string) error {
			if err := os.Remove(p); err != nil {
				return err
			}
			return os.Symlink("/proc/self/environ", p)
		}, []string{"Configuration file links outside the working directory", "env.pix.hcl is a symbolic link to /proc/"}},
		{"variables linked outside", "v.pixvars.hcl", func(p string) error {
			if err := os.Remove(p); err != nil {
				return err
			}
			outside := filepath.Join(t.TempDir(), "v.hcl")
			if err := os.WriteFile(outside, []byte("x = 1\n"), 0o644); err != nil {
				return err
			}
			return os.Symlink(outside, p)
		}, []string{"Variable file links outside the working directory", "v.pixvars.hcl is a symbolic link to"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeDir(t, map[string]string{"main.pix.hcl": "image \"a\" {\n  prompt = \"a fox\"\n}\n", tt.file: ""})
			if err := tt.make(filepath.Join(dir, tt.file)); err != nil {
				t.Skip(err)
			}
			_, diags := Load(dir, LoadOptions{})
			got := render(diags)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("diagnostics lack %q:%s", w, got)
				}
			}
		})
	}
	// A link that opens but cannot be followed to a name (a descriptor
	// of a deleted file) is not known to stay inside: refused.
	if f, err := os.CreateTemp("", "gone-*.hcl"); err == nil {
		f.WriteString("x = 1\n")
		os.Remove(f.Name())
		dir := writeDir(t, map[string]string{"main.pix.hcl": "image \"a\" {\n  prompt = \"a fox\"\n}\n"})
		if err := os.Symlink(fmt.Sprintf("/proc/self/fd/%d", f.Fd()), filepath.Join(dir, "fd.pix.hcl")); err != nil {
			t.Fatal(err)
		}
		if _, diags := Load(dir, LoadOptions{}); !strings.Contains(render(diags), "fd.pix.hcl is a symbolic link to /proc/self/fd/") {
			t.Errorf("a link to a deleted file's descriptor: %s", render(diags))
		}
		f.Close()
	}
	// A link that stays inside is read.
	dir := writeDir(t, map[string]string{"shared/common.hcl": "image \"a\" {\n  prompt = \"a fox\"\n}\n"})
	if err := os.Symlink(filepath.Join("shared", "common.hcl"), filepath.Join(dir, "common.pix.hcl")); err != nil {
		t.Fatal(err)
	}
	if cfg, diags := Load(dir, LoadOptions{}); diags.HasErrors() || len(cfg.Images) != 1 {
		t.Errorf("a link inside the directory: %s", render(diags))
	}
	// A missing file says so.
	if _, err := ReadSource(filepath.Join(t.TempDir(), "none.pix.hcl")); err == nil || !strings.Contains(err.Error(), "Check that it exists") {
		t.Errorf("ReadSource of a missing file: %v", err)
	}
}

// TestLoadVarFileThroughLink: a -var-file named inside the working
// directory is resolved through every link on its way, its directories
// included, before it is read: a directory a pull request links outside
// (to /proc/self, to a secret) is refused, saying which link leads where.
// A file the command line names outside the directory is the user's own
// argument and is read; a link that stays inside is followed.
func TestLoadVarFileThroughLink(t *testing.T) {
	const main = "variable \"theme\" {\n  default = \"none\"\n}\nimage \"a\" {\n  prompt = \"a fox, ${var.theme}\"\n}\n"
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "v.hcl"), []byte("theme = \"outside\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		link    string // a link made in the directory: "NAME -> TARGET"
		varFile string
		want    string // the prompt, when read
		refused []string
	}{
		{name: "directory linked outside", link: "env -> " + outside, varFile: "env/v.hcl",
			refused: []string{"Variable file links outside the working directory", "env/v.hcl leads through env, a symbolic link to " + outside + ", outside the working directory"}},
		{name: "directory linked outside, deeper", link: "conf/env -> " + outside, varFile: "conf/env/v.hcl",
			refused: []string{"conf/env/v.hcl leads through conf/env, a symbolic link to " + outside}},
		{name: "directory linked outside, relative", link: "env -> ../" + filepath.Base(outside), varFile: "./env/v.hcl"},
		{name: "absolute path inside through a link", link: "env -> " + outside, varFile: "DIR/env/v.hcl",
			refused: []string{"leads through env, a symbolic link to " + outside}},
		// The name is read as it is checked, cleaned: not the parent of
		// where env leads.
		{name: "absolute path inside, back out of a link", link: "env -> " + filepath.Join(outside, "deeper"), varFile: "DIR/env/../v.hcl", want: "a fox, here"},
		{name: "outside, named on the command line", varFile: filepath.Join(outside, "v.hcl"), want: "a fox, outside"},
		{name: "directory linked inside", link: "env -> shared", varFile: "env/in.hcl", want: "a fox, inside"},
		// Inside is decided by the directories the way enters, not by
		// the path's text: another name of the working directory (a
		// link to it outside, /proc/self/cwd) is inside too.
		{name: "another name of the directory, through a link", link: "env -> " + outside, varFile: "ALIAS/env/v.hcl",
			refused: []string{"Variable file links outside the working directory", "ALIAS/env/v.hcl leads through env, a symbolic link to " + outside}},
		{name: "another name of the directory, a file in it", varFile: "ALIAS/v.hcl", want: "a fox, here"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeDir(t, map[string]string{"main.pix.hcl": main, "shared/in.hcl": "theme = \"inside\"\n", "conf/.keep": "", "v.hcl": "theme = \"here\"\n"})
			if tt.link != "" {
				name, target, _ := strings.Cut(tt.link, " -> ")
				if strings.HasPrefix(target, "../") {
					// Relative to the link's directory: two levels up
					// from dir to reach the other temporary directory.
					rel, err := filepath.Rel(dir, outside)
					if err != nil {
						t.Skip(err)
					}
					target = rel
					tt.refused = []string{"env/v.hcl leads through env, a symbolic link to " + rel}
				}
				if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
					t.Fatal(err)
				}
			}
			varFile := strings.Replace(tt.varFile, "DIR", dir, 1)
			if strings.HasPrefix(varFile, "ALIAS/") {
				alias := filepath.Join(t.TempDir(), "alias")
				if err := os.Symlink(dir, alias); err != nil {
					t.Fatal(err)
				}
				varFile = alias + strings.TrimPrefix(varFile, "ALIAS")
				for i, r := range tt.refused {
					tt.refused[i] = strings.Replace(r, "ALIAS", alias, 1)
				}
			}
			cfg, diags := Load(dir, LoadOptions{VarFiles: []string{varFile}})
			got := render(diags)
			if tt.refused != nil {
				for _, w := range tt.refused {
					if !strings.Contains(got, w) {
						t.Errorf("diagnostics lack %q:%s", w, got)
					}
				}
				if strings.Contains(got, "outside\"") || len(cfg.Images) > 0 && strings.Contains(cfg.Images[0].Prompt, "outside") {
					t.Errorf("the file outside was read")
				}
				return
			}
			if diags.HasErrors() || len(cfg.Images) != 1 || cfg.Images[0].Prompt != tt.want {
				t.Errorf("got %v, want the prompt %q:%s", cfg.Images, tt.want, got)
			}
		})
	}
}
