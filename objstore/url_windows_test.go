package objstore

import "testing"

// On Windows a file:// URL names a directory by its drive: file:///C:/store
// is C:\store, which the store opens (its path, /C:/store, names nothing).
func TestFileURLWindowsDrive(t *testing.T) {
	for raw, want := range map[string]string{
		"file:///C:/store":        `C:\store`,
		"file:///d:/team/images/": `d:\team\images`,
	} {
		loc, err := parseLocation(raw)
		if err != nil {
			t.Errorf("parseLocation(%q): %v", raw, err)
			continue
		}
		if loc.bucket != want {
			t.Errorf("parseLocation(%q) names %q, want %q", raw, loc.bucket, want)
		}
	}
}
