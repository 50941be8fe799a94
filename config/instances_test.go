package config

import (
	"fmt"
	"strings"
	"testing"
)

// TestLoadManyInstances: a for_each or count block large enough to be
// evaluated on several goroutines gives its images, and the diagnostics of
// its bad instances, in instance order and once each, as one goroutine
// would; a symbolic link on the way of one instance's path is still
// refused, and existing files are seen. (Run with -race: each worker
// reports into its own loader.)
func TestLoadManyInstances(t *testing.T) {
	const n = 300
	var m strings.Builder
	for i := range n {
		ratio := "16:9"
		if i%37 == 5 {
			ratio = "5:4" // not one the API accepts
		}
		fmt.Fprintf(&m, "    k%03d = %q\n", i, ratio)
	}
	files := map[string]string{
		"main.pix.hcl": `
locals {
  ratios = {
` + m.String() + `  }
}

image "fe" {
  for_each     = local.ratios
  prompt       = "view ${each.key}"
  aspect_ratio = each.value
  path         = "fe/${each.key}.png"
}

image "ct" {
  count  = ` + fmt.Sprint(n) + `
  prompt = count.index % 50 == 7 ? "" : "take ${count.index}"
  path   = count.index == 250 ? "linked/x.png" : "ct/${count.index}.png"
}
`,
		"fe/k010.png": "x",
		"real/.keep":  "",
	}
	dir := writeDir(t, files)
	if err := symlink("real", dir, "linked"); err != nil {
		t.Fatal(err)
	}
	cfg, diags := Load(dir, LoadOptions{})

	var want []string
	for i := range n {
		if i%37 == 5 {
			want = append(want, fmt.Sprintf("Unsupported aspect ratio (in image.fe[\"k%03d\"])", i))
		}
	}
	for i := range n {
		if i%50 == 7 {
			want = append(want, fmt.Sprintf("Empty prompt (in image.ct[%d])", i))
		}
	}
	// Diagnostics come by position: path is on the line after prompt.
	want = append(want, "Image path goes through a symbolic link (in image.ct[250])")
	var got []string
	for _, d := range diags {
		in := d.Detail[strings.LastIndex(d.Detail, " (in "):]
		got = append(got, d.Summary+in)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("diagnostics:\n%s\nwant:\n%s%s", strings.Join(got, "\n"), strings.Join(want, "\n"), render(diags))
	}

	// The images that evaluated, in address order, each once.
	wantImages := 2*n - len(want)
	if len(cfg.Images) != wantImages {
		t.Fatalf("%d images, want %d", len(cfg.Images), wantImages)
	}
	seen := map[string]bool{}
	for i, img := range cfg.Images {
		if seen[img.Addr.String()] {
			t.Errorf("%s twice", img.Addr)
		}
		seen[img.Addr.String()] = true
		if i > 0 && cfg.Images[i-1].Addr.Compare(img.Addr) >= 0 {
			t.Errorf("%s after %s", img.Addr, cfg.Images[i-1].Addr)
		}
		if want := img.Addr.String() == `image.fe["k010"]`; img.OnDisk != want {
			t.Errorf("%s: OnDisk = %v, want %v", img.Addr, img.OnDisk, want)
		}
		if img.Addr.Name == "ct" && img.Prompt != fmt.Sprintf("take %d", img.Addr.Index) {
			t.Errorf("%s: prompt %q", img.Addr, img.Prompt)
		}
	}
}
