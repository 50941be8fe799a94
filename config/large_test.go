package config

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestLarge(t *testing.T) {
	big := bytes.Repeat([]byte("# padding\n"), lazyFrom/10+1)
	for _, tc := range []struct {
		name  string
		files map[string][]byte
		want  bool
	}{
		{"small", map[string][]byte{"main.pix.hcl": []byte("image \"a\" {\n  prompt = \"x\"\n}\n")}, false},
		{"large", map[string][]byte{"main.pix.hcl": big}, true},
		{"large in halves", map[string][]byte{"a.pix.hcl": big[:len(big)/2], "b.pix.hcl": big[len(big)/2:]}, true},
		{"not configuration", map[string][]byte{"notes.txt": big, "v.pixvars.hcl": big}, false},
		{"hidden", map[string][]byte{".main.pix.hcl": big, "main.pix.hcl~": big}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, b := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if got := LargeSize(Size(dir)); got != tc.want {
				t.Errorf("Large = %v, want %v", got, tc.want)
			}
		})
	}
	if LargeSize(Size(filepath.Join(t.TempDir(), "missing"))) {
		t.Error("Large(missing dir) = true, want false")
	}
}
