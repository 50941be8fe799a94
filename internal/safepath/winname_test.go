package safepath

import "testing"

// winNameProblem finds, in any component, the names that Windows takes
// for something other than the file they spell, and leaves plain names
// alone (a tilde without a digit, a device name inside a longer word).
func TestWinNameProblem(t *testing.T) {
	for p, bad := range map[string]bool{
		"images/a.png":          false,
		"images/hero~draft.png": false,
		"console/a.png":         false,
		"nullable.png":          false,
		"com10.png":             false,
		"lpt.png":               false,
		"auxiliary/a.png":       false,
		"a b/c d.png":           false,
		"dé/ü.png":              false,
		"a.png:evil":            true,
		"a.png::$DATA":          true,
		"images:x/a.png":        true,
		"a?.png":                true,
		"a*.png":                true,
		"a|b.png":               true,
		`a"b.png`:               true,
		"a<b.png":               true,
		"a.png.":                true,
		"a.png ":                true,
		"dir./a.png":            true,
		"dir /a.png":            true,
		"nul.png":               true,
		"NUL":                   true,
		"images/Con.png":        true,
		"aux .png":              true,
		"com1.png":              true,
		"LPT9/a.png":            true,
		"com¹.png":              true,
		"conin$.png":            true,
		"GIT~1/hooks/a.png":     true,
		"PIXFOR~1/cache/a.png":  true,
		"images/PHOTO~12.JPG":   true,
	} {
		if got := winNameProblem(p) != ""; got != bad {
			t.Errorf("winNameProblem(%q) = %q, want a problem: %v", p, winNameProblem(p), bad)
		}
	}
}
