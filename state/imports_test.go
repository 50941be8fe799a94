package state

import (
	"go/build"
	"slices"
	"testing"
)

// TestImportsNoConfig keeps state below config: the lockfile speaks in
// addrs and providers, never in configuration types.
func TestImportsNoConfig(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	const config = "github.com/pixform/pixform/config"
	for name, imports := range map[string][]string{"state": pkg.Imports, "state tests": pkg.TestImports, "state_test": pkg.XTestImports} {
		if slices.Contains(imports, config) {
			t.Errorf("%s imports %s", name, config)
		}
	}
}
