package config

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/providers"
)

func TestLoadExpansion(t *testing.T) {
	type img struct{ addr, prompt, ratio, style, path string }
	tests := map[string]struct {
		src  string
		want []img
	}{
		"defaults": {
			src: `image "hero" {
  prompt = "a city"
}
`,
			want: []img{{`image.hero`, "a city", "1:1", "flux-dev", "images/hero.png"}},
		},
		"provider style is the default style": {
			src: `provider "imagine" {
  style = "anime"
}

image "a" {
  prompt = "x"
}

image "b" {
  prompt = "y"
  style  = "realistic"
}
`,
			want: []img{
				{`image.a`, "x", "1:1", "anime", "images/a.png"},
				{`image.b`, "y", "1:1", "realistic", "images/b.png"},
			},
		},
		"for_each over a map": {
			src: `image "icon" {
  for_each     = { user = "a person", home = "a house" }
  prompt       = "flat icon of ${each.value}"
  aspect_ratio = "3:2"
}
`,
			want: []img{
				{`image.icon["home"]`, "flat icon of a house", "3:2", "flux-dev", "images/icon-home.png"},
				{`image.icon["user"]`, "flat icon of a person", "3:2", "flux-dev", "images/icon-user.png"},
			},
		},
		"for_each over a set with explicit paths": {
			src: `image "card" {
  for_each = toset(["about", "blog"])
  prompt   = "card for ${each.key} (${each.value})"
  path     = "assets/cards/${each.key}.jpg"
}
`,
			want: []img{
				{`image.card["about"]`, "card for about (about)", "1:1", "flux-dev", "assets/cards/about.jpg"},
				{`image.card["blog"]`, "card for blog (blog)", "1:1", "flux-dev", "assets/cards/blog.jpg"},
			},
		},
		"for_each over objects": {
			src: `locals {
  pages = {
    home = { title = "Home", ratio = "16:9" }
    docs = { title = "Docs", ratio = "4:3" }
  }
}

image "social" {
  for_each     = local.pages
  prompt       = "banner: ${each.value.title}"
  aspect_ratio = each.value.ratio
}
`,
			want: []img{
				{`image.social["docs"]`, "banner: Docs", "4:3", "flux-dev", "images/social-docs.png"},
				{`image.social["home"]`, "banner: Home", "16:9", "flux-dev", "images/social-home.png"},
			},
		},
		"count": {
			src: `image "v" {
  count  = 3
  prompt = "variant ${count.index + 1}"
}
`,
			want: []img{
				{`image.v[0]`, "variant 1", "1:1", "flux-dev", "images/v-0.png"},
				{`image.v[1]`, "variant 2", "1:1", "flux-dev", "images/v-1.png"},
				{`image.v[2]`, "variant 3", "1:1", "flux-dev", "images/v-2.png"},
			},
		},
		"count zero and empty for_each": {
			src: `image "none" {
  count  = 0
  prompt = "x"
}

image "empty" {
  for_each = {}
  prompt   = "x"
}
`,
			want: nil,
		},
		"sorted by address, not declaration": {
			src: `image "zeta" {
  prompt = "z"
}

image "v" {
  count  = 11
  prompt = "v"
  path   = "v/${count.index}.png"
}

image "alpha" {
  prompt = "a"
}
`,
			want: []img{
				{`image.alpha`, "a", "1:1", "flux-dev", "images/alpha.png"},
				{`image.v[0]`, "v", "1:1", "flux-dev", "v/0.png"},
				{`image.v[1]`, "v", "1:1", "flux-dev", "v/1.png"},
				{`image.v[2]`, "v", "1:1", "flux-dev", "v/2.png"},
				{`image.v[3]`, "v", "1:1", "flux-dev", "v/3.png"},
				{`image.v[4]`, "v", "1:1", "flux-dev", "v/4.png"},
				{`image.v[5]`, "v", "1:1", "flux-dev", "v/5.png"},
				{`image.v[6]`, "v", "1:1", "flux-dev", "v/6.png"},
				{`image.v[7]`, "v", "1:1", "flux-dev", "v/7.png"},
				{`image.v[8]`, "v", "1:1", "flux-dev", "v/8.png"},
				{`image.v[9]`, "v", "1:1", "flux-dev", "v/9.png"},
				{`image.v[10]`, "v", "1:1", "flux-dev", "v/10.png"},
				{`image.zeta`, "z", "1:1", "flux-dev", "images/zeta.png"},
			},
		},
		"paths are cleaned": {
			src: `image "a" {
  prompt = "x"
  path   = "./assets//x/../A.PNG"
}
`,
			want: []img{{`image.a`, "x", "1:1", "flux-dev", "assets/A.PNG"}},
		},
		"locals refer to locals and variables": {
			src: `variable "theme" {
  default = "neon"
}

locals {
  full = "${local.city}, ${var.theme} lights"
  city = upper(local.base)
  base = "city"
}

image "a" {
  prompt = local.full
}
`,
			want: []img{{`image.a`, "CITY, neon lights", "1:1", "flux-dev", "images/a.png"}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := mustLoad(t, map[string]string{"main.pix.hcl": tc.src}, LoadOptions{})
			var got []img
			for _, i := range cfg.Images {
				got = append(got, img{i.Addr.String(), i.Prompt, i.AspectRatio, i.Style, i.Path})
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("images:\n got %v\nwant %v", got, tc.want)
			}
		})
	}
}

func TestLoadSeedAndDeclRange(t *testing.T) {
	cfg := mustLoad(t, map[string]string{"main.pix.hcl": `image "a" {
  prompt = "x"
  seed   = 4294967295
}

image "b" {
  prompt = "y"
}
`}, LoadOptions{})
	if len(cfg.Images) != 2 {
		t.Fatalf("got %d images", len(cfg.Images))
	}
	if got := cfg.Images[0].Seed; got != providers.MaxSeed {
		t.Errorf("seed = %d, want %d", got, int64(providers.MaxSeed))
	}
	if got := cfg.Images[1].Seed; got != 0 {
		t.Errorf("omitted seed = %d, want 0", got)
	}
	if got := cfg.Images[1].DeclRange.String(); got != "main.pix.hcl:6,1-10" {
		t.Errorf("DeclRange = %s", got)
	}
	if _, ok := cfg.Files["main.pix.hcl"]; !ok || len(cfg.Files) != 1 {
		t.Errorf("Files = %v, want main.pix.hcl", cfg.Files)
	}
}

func TestLoadProvider(t *testing.T) {
	tests := map[string]struct {
		src  string
		want Provider
	}{
		"no block": {
			src:  "",
			want: Provider{Style: DefaultStyle, Parallelism: DefaultParallelism, Timeout: DefaultTimeout, MaxRetries: DefaultMaxRetries},
		},
		"empty block": {
			src:  "provider \"imagine\" {\n}\n",
			want: Provider{Style: DefaultStyle, Parallelism: DefaultParallelism, Timeout: DefaultTimeout, MaxRetries: DefaultMaxRetries},
		},
		"every setting": {
			src:  "variable \"p\" {\n  default = 2\n}\n\nprovider \"imagine\" {\n  style = \"imagine-turbo\"\n  parallelism = var.p\n  timeout = \"1m30s\"\n  max_retries = 0\n}\n",
			want: Provider{Style: "imagine-turbo", Parallelism: 2, Timeout: 90 * time.Second, MaxRetries: 0},
		},
		"response bounds": {
			src: "provider \"imagine\" {\n  read_idle_timeout = \"10s\"\n  max_image_bytes = 1048576\n  max_image_pixels = 2048 * 2048\n}\n",
			want: Provider{Style: DefaultStyle, Parallelism: DefaultParallelism, Timeout: DefaultTimeout, MaxRetries: DefaultMaxRetries,
				ReadIdleTimeout: 10 * time.Second, MaxImageBytes: 1 << 20, MaxImagePixels: 2048 * 2048},
		},
		"response bounds at their ceilings": {
			src: "provider \"imagine\" {\n  max_image_bytes = 1073741824\n  max_image_pixels = 16384 * 16384\n}\n",
			want: Provider{Style: DefaultStyle, Parallelism: DefaultParallelism, Timeout: DefaultTimeout, MaxRetries: DefaultMaxRetries,
				MaxImageBytes: 1 << 30, MaxImagePixels: 16384 * 16384},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := mustLoad(t, map[string]string{"main.pix.hcl": tc.src + "\nimage \"a\" {\n  prompt = \"x\"\n}\n"}, LoadOptions{})
			if cfg.Provider != tc.want {
				t.Errorf("Provider = %+v, want %+v", cfg.Provider, tc.want)
			}
		})
	}
}

func TestLoadVariablePrecedence(t *testing.T) {
	const decl = `variable "theme" {
  type    = string
  default = "default"
}

image "a" {
  prompt = var.theme
}
`
	tests := map[string]struct {
		auto, file string // *.pixvars.hcl and -var-file contents, "" for none
		env        []string
		vars       []string
		want       string
	}{
		"default":                  {want: "default"},
		"environment":              {env: []string{"PIXFORM_VAR_theme=env"}, want: "env"},
		"auto file beats env":      {env: []string{"PIXFORM_VAR_theme=env"}, auto: `theme = "auto"`, want: "auto"},
		"var-file beats auto file": {env: []string{"PIXFORM_VAR_theme=env"}, auto: `theme = "auto"`, file: `theme = "file"`, want: "file"},
		"-var beats all":           {env: []string{"PIXFORM_VAR_theme=env"}, auto: `theme = "auto"`, file: `theme = "file"`, vars: []string{"theme=flag"}, want: "flag"},
		"last -var wins":           {vars: []string{"theme=one", "theme=two"}, want: "two"},
		"-var keeps equals signs":  {vars: []string{"theme=a=b"}, want: "a=b"},
		"unrelated env ignored":    {env: []string{"PIXFORM_VAR_other=x", "HOME=/root"}, want: "default"},
		"string -var is literal":   {vars: []string{`theme=["not", "parsed"]`}, want: `["not", "parsed"]`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			files := map[string]string{"main.pix.hcl": decl}
			opts := LoadOptions{Environ: tc.env, Vars: tc.vars}
			if tc.auto != "" {
				files["team.pixvars.hcl"] = tc.auto
			}
			if tc.file != "" {
				files["prod.vars.hcl"] = tc.file
				opts.VarFiles = []string{"prod.vars.hcl"}
			}
			cfg := mustLoad(t, files, opts)
			if got := cfg.Images[0].Prompt; got != tc.want {
				t.Errorf("var.theme = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLoadTypedVariables(t *testing.T) {
	const decl = `variable "n" {
  type = number
}

variable "tags" {
  type = list(string)
}

variable "any" {
}

image "a" {
  count  = var.n
  prompt = "${join(",", var.tags)} ${var.any}"
}
`
	tests := map[string]struct {
		opts  LoadOptions
		count int
		want  string
	}{
		"from -var": {
			opts:  LoadOptions{Vars: []string{"n=2", `tags=["a", "b"]`, "any=[1]"}},
			count: 2, want: "a,b [1]",
		},
		"from environment": {
			opts:  LoadOptions{Environ: []string{"PIXFORM_VAR_n=1", `PIXFORM_VAR_tags=["x"]`, "PIXFORM_VAR_any=y"}},
			count: 1, want: "x y",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := mustLoad(t, map[string]string{"main.pix.hcl": decl}, tc.opts)
			if len(cfg.Images) != tc.count {
				t.Fatalf("got %d images, want %d", len(cfg.Images), tc.count)
			}
			if got := cfg.Images[0].Prompt; got != tc.want {
				t.Errorf("prompt = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLoadVarFileAbsolutePath(t *testing.T) {
	other := filepath.Join(t.TempDir(), "abs.hcl")
	if err := os.WriteFile(other, []byte(`theme = "abs"`), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := mustLoad(t, map[string]string{"main.pix.hcl": "variable \"theme\" {\n}\n\nimage \"a\" {\n  prompt = var.theme\n}\n"},
		LoadOptions{VarFiles: []string{other}})
	if got := cfg.Images[0].Prompt; got != "abs" {
		t.Errorf("prompt = %q, want abs", got)
	}
}

func TestFunctions(t *testing.T) {
	hexSum := func(b []byte) string { return hex.EncodeToString(b) }
	md5sum, sha1sum, sha256sum, sha512sum := md5.Sum([]byte("hi")), sha1.Sum([]byte("hi")), sha256.Sum256([]byte("hi")), sha512.Sum512([]byte("hi"))
	tests := map[string]struct {
		expr string
		want string
	}{
		"format":        {`format("%s-%03d", "a", 7)`, "a-007"},
		"formatlist":    {`join(",", formatlist("x%s", ["a", "b"]))`, "xa,xb"},
		"lower upper":   {`"${lower("AbC")}${upper("d")}"`, "abcD"},
		"title":         {`title("hello world")`, "Hello World"},
		"replace":       {`replace("a-b-c", "-", "+")`, "a+b+c"},
		"regex_replace": {`regex_replace("a1b22", "[0-9]+", "#")`, "a#b#"},
		"trims":         {`"${trimspace("  x ")}${trim("--y--", "-")}${trimprefix("pre-z", "pre-")}${trimsuffix("w.png", ".png")}"`, "xyzw"},
		"substr":        {`substr("hello", 1, 3)`, "ell"},
		"split":         {`element(split(",", "a,b,c"), 1)`, "b"},
		"length":        {`"${length("héllo")} ${length([1, 2])} ${length({a = 1})}"`, "5 2 1"},
		"collections":   {`join(" ", concat(sort(distinct(["b", "a", "b"])), reverse(["1", "2"])))`, "a b 2 1"},
		"maps":          {`"${lookup(merge({a = "1"}, {b = "2"}), "b", "none")} ${join("", keys({x = 1, y = 2}))} ${contains(values({x = "v"}), "v")}"`, "2 xy true"},
		"numbers":       {`"${min(3, 1, 2)} ${max(3, 1, 2)} ${abs(-4)} ${ceil(1.2)} ${floor(1.8)} ${tonumber("5") + 1}"`, "1 3 4 2 1 6"},
		"range":         {`join(",", [for n in range(3) : tostring(n)])`, "0,1,2"},
		"coalesce":      {`coalesce("", "b")`, "b"},
		"json":          {`"${jsonencode({a = [1]})} ${jsondecode("{\"k\":\"v\"}").k}"`, `{"a":[1]} v`},
		"conversions":   {`"${tobool("true")} ${length(toset(["a", "a"]))} ${tolist(["x"])[0]} ${tomap({k = "v"}).k}"`, "true 1 x v"},
		"flatten":       {`join("", flatten([["a"], ["b", ["c"]]]))`, "abc"},
		"zipmap":        {`zipmap(["k"], ["v"]).k`, "v"},
		"chunklist":     {`length(chunklist([1, 2, 3], 2))`, "2"},
		"setproduct":    {`length(setproduct(["a", "b"], ["1", "2"]))`, "4"},
		"md5":           {`md5("hi")`, hexSum(md5sum[:])},
		"sha1":          {`sha1("hi")`, hexSum(sha1sum[:])},
		"sha256":        {`sha256("hi")`, hexSum(sha256sum[:])},
		"sha512":        {`sha512("hi")`, hexSum(sha512sum[:])},
		"base64sha256":  {`base64sha256("hi")`, base64.StdEncoding.EncodeToString(sha256sum[:])},
		"base64sha512":  {`base64sha512("hi")`, base64.StdEncoding.EncodeToString(sha512sum[:])},
		"base64":        {`"${base64encode("hi")} ${base64decode("aGk=")}"`, base64.StdEncoding.EncodeToString([]byte("hi")) + " hi"},
		"urlencode":     {`urlencode("a b&c")`, url.QueryEscape("a b&c")},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			src := "image \"a\" {\n  prompt = " + tc.expr + "\n}\n"
			cfg := mustLoad(t, map[string]string{"main.pix.hcl": src}, LoadOptions{})
			if got := cfg.Images[0].Prompt; got != tc.want {
				t.Errorf("%s = %q, want %q", tc.expr, got, tc.want)
			}
		})
	}
}

func TestFunctionsAreDeterministic(t *testing.T) {
	for name := range Functions() {
		for _, banned := range []string{"uuid", "timestamp", "file", "env", "random"} {
			if strings.Contains(name, banned) {
				t.Errorf("function %q is not deterministic", name)
			}
		}
	}
}

func TestDigest(t *testing.T) {
	const base = `image "a" {
  prompt = "x"
  seed   = 1
}
`
	tests := map[string]struct {
		src  string
		same bool
	}{
		"reformatted":       {src: "image   \"a\"   {\n    seed = 1\n  prompt =   \"x\" # comment\n}\n", same: true},
		"via a local":       {src: "locals {\n  p = \"x\"\n}\nimage \"a\" {\n  prompt = local.p\n  seed = 1\n}\n", same: true},
		"prompt changed":    {src: "image \"a\" {\n  prompt = \"y\"\n  seed = 1\n}\n"},
		"seed changed":      {src: "image \"a\" {\n  prompt = \"x\"\n  seed = 2\n}\n"},
		"path changed":      {src: "image \"a\" {\n  prompt = \"x\"\n  seed = 1\n  path = \"b.png\"\n}\n"},
		"renamed":           {src: "image \"b\" {\n  prompt = \"x\"\n  seed = 1\n}\n"},
		"provider changed":  {src: base + "provider \"imagine\" {\n  parallelism = 9\n}\n"},
		"idle timeout set":  {src: base + "provider \"imagine\" {\n  read_idle_timeout = \"5s\"\n}\n"},
		"pixel cap set":     {src: base + "provider \"imagine\" {\n  max_image_pixels = 100000\n}\n"},
		"byte cap set":      {src: base + "provider \"imagine\" {\n  max_image_bytes = 100000\n}\n"},
		"ratio changed":     {src: "image \"a\" {\n  prompt = \"x\"\n  seed = 1\n  aspect_ratio = \"4:3\"\n}\n"},
		"style changed":     {src: "image \"a\" {\n  prompt = \"x\"\n  seed = 1\n  style = \"anime\"\n}\n"},
		"explicit defaults": {src: "image \"a\" {\n  prompt = \"x\"\n  seed = 1\n  style = \"flux-dev\"\n  path = \"images/a.png\"\n}\n", same: true},
	}
	want := mustLoad(t, map[string]string{"main.pix.hcl": base}, LoadOptions{}).Digest
	if len(want) != 64 {
		t.Fatalf("Digest = %q, want 64 hex digits", want)
	}
	if got := mustLoad(t, map[string]string{"main.pix.hcl": base}, LoadOptions{NoDigest: true}).Digest; got != "" {
		t.Fatalf("Digest with NoDigest = %q, want none", got)
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := mustLoad(t, map[string]string{"main.pix.hcl": tc.src}, LoadOptions{}).Digest
			if (got == want) != tc.same {
				t.Errorf("digest equal = %v, want %v", got == want, tc.same)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	cfg := mustLoad(t, map[string]string{"main.pix.hcl": `image "icon" {
  for_each = toset(["a", "b", "c"])
  prompt   = each.key
}

image "v" {
  count  = 12
  prompt = "v${count.index}"
}

image "hero" {
  prompt = "hero"
}
`}, LoadOptions{})
	tests := map[string]struct {
		addr   addrs.Addr
		found  bool
		prompt string
	}{
		"plain":         {addrs.Addr{Name: "hero"}, true, "hero"},
		"keyed":         {addrs.Addr{Name: "icon", Kind: addrs.StringKey, Key: "b"}, true, "b"},
		"indexed":       {addrs.Addr{Name: "v", Kind: addrs.IntKey, Index: 10}, true, "v10"},
		"missing key":   {addrs.Addr{Name: "icon", Kind: addrs.StringKey, Key: "z"}, false, ""},
		"missing name":  {addrs.Addr{Name: "nope"}, false, ""},
		"block of keys": {addrs.Addr{Name: "icon"}, false, ""},
		"past the end":  {addrs.Addr{Name: "v", Kind: addrs.IntKey, Index: 12}, false, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			img, ok := cfg.Lookup(tc.addr)
			if ok != tc.found || img.Prompt != tc.prompt {
				t.Errorf("Lookup(%s) = %q, %v; want %q, %v", tc.addr, img.Prompt, ok, tc.prompt, tc.found)
			}
			if ok && img.Addr != tc.addr {
				t.Errorf("Lookup(%s) returned %s", tc.addr, img.Addr)
			}
		})
	}
}

func TestLoadIgnoresEditorFiles(t *testing.T) {
	cfg := mustLoad(t, map[string]string{
		"main.pix.hcl":    "image \"a\" {\n  prompt = \"x\"\n}\n",
		".#main.pix.hcl":  "broken {",
		"main.pix.hcl~":   "broken {",
		"#main.pix.hcl#":  "broken {",
		"notes.hcl":       "broken {",
		"sub/x.pix.hcl":   "broken {",
		"main.pix.hcl.bk": "broken {",
	}, LoadOptions{})
	if len(cfg.Images) != 1 {
		t.Errorf("got %d images, want 1", len(cfg.Images))
	}
}

func TestLoadOnDisk(t *testing.T) {
	cfg := mustLoad(t, map[string]string{
		"main.pix.hcl": `
image "there" {
  prompt = "a"
  path   = "assets/there.png"
}
image "missing" {
  prompt = "b"
  path   = "assets/missing.png"
}
image "nodir" {
  prompt = "c"
  path   = "nowhere/x.png"
}
`,
		"assets/there.png": "an untracked file",
	}, LoadOptions{})
	want := map[string]bool{"image.there": true, "image.missing": false, "image.nodir": false}
	for _, img := range cfg.Images {
		if img.OnDisk != want[img.Addr.String()] {
			t.Errorf("%s: OnDisk = %v, want %v", img.Addr, img.OnDisk, want[img.Addr.String()])
		}
	}
}

// TestLoadRawVariableNotOfItsType: a number or bool variable given text
// that is not one on the command line or in the environment is "not a
// valid number", naming where the value came from, as in a variable file
// (not HCL's "Variables not allowed" at a made-up file).
func TestLoadRawVariableNotOfItsType(t *testing.T) {
	const decl = "variable \"n\" {\n  type = number\n}\n\nvariable \"b\" {\n  type    = bool\n  default = false\n}\n\nimage \"a\" {\n  count  = var.n\n  prompt = \"x\"\n}\n"
	tests := map[string]struct {
		opts LoadOptions
		want []string
	}{
		"-var word": {LoadOptions{Vars: []string{"n=abc"}},
			[]string{"Invalid value for variable", `The value "abc" of var.n from the -var option is not a valid number: a number is required`}},
		"-var sum of words": {LoadOptions{Vars: []string{"n=a+b"}},
			[]string{`The value "a+b" of var.n from the -var option is not a valid number`}},
		"-var bad syntax": {LoadOptions{Vars: []string{"n=1 2"}},
			[]string{`The value "1 2" of var.n from the -var option is not a valid number`}},
		"environment word": {LoadOptions{Environ: []string{"PIXFORM_VAR_n=abc"}},
			[]string{`The value "abc" of var.n from the environment variable PIXFORM_VAR_n is not a valid number`}},
		"environment bool": {LoadOptions{Environ: []string{"PIXFORM_VAR_n=1", "PIXFORM_VAR_b=yes"}},
			[]string{`The value "yes" of var.b from the environment variable PIXFORM_VAR_b is not a valid bool: a bool is required`}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, diags := Load(writeDir(t, map[string]string{"main.pix.hcl": decl}), tc.opts)
			got := render(diags)
			if strings.Contains(got, "Variables not allowed") || strings.Contains(got, "<value for") {
				t.Errorf("HCL's expression error:%s", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("diagnostics lack %q:%s", w, got)
				}
			}
		})
	}
	// Values of the type still load, in either form.
	for _, vars := range [][]string{{"n=2"}, {"n= 2 "}, {`n="2"`}, {"n=1+1", "b=true"}} {
		cfg := mustLoad(t, map[string]string{"main.pix.hcl": decl}, LoadOptions{Vars: vars})
		if len(cfg.Images) != 2 {
			t.Errorf("-var %q: %d images, want 2", vars, len(cfg.Images))
		}
	}
}
