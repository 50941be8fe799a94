package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// writeDir writes files (name → content) into a new temporary directory.
func writeDir(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// at renders where a diagnostic points: "main.pix.hcl:3,12", or "-" for
// none.
func at(d *hcl.Diagnostic) string {
	if d.Subject == nil {
		return "-"
	}
	return fmt.Sprintf("%s:%d,%d", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
}

// render lists diagnostics one a line, for failure messages.
func render(diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		fmt.Fprintf(&b, "\n  %s %s: %s: %s", severity(d), at(d), d.Summary, d.Detail)
	}
	return b.String()
}

func severity(d *hcl.Diagnostic) string {
	if d.Severity == hcl.DiagWarning {
		return "warning"
	}
	return "error"
}

// mustLoad loads files and fails on any diagnostic.
func mustLoad(t *testing.T, files map[string]string, opts LoadOptions) *Config {
	t.Helper()
	cfg, diags := Load(writeDir(t, files), opts)
	if len(diags) > 0 {
		t.Fatalf("unexpected diagnostics:%s", render(diags))
	}
	return cfg
}

// symlink makes dir/name a relative symbolic link to target.
func symlink(target, dir, name string) error {
	return os.Symlink(target, filepath.Join(dir, name))
}
