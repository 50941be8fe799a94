package state

import "testing"

func TestIsTempOf(t *testing.T) {
	bases := map[string]bool{"a.png": true, "tile-3.png": true, "pixform.lock.json": true}
	tests := map[string]struct {
		name string
		want bool
	}{
		"temp of a target":           {".pixform-tmp-a.png-123456", true},
		"temp of a dashed target":    {".pixform-tmp-tile-3.png-42", true},
		"temp of the lockfile":       {".pixform-tmp-pixform.lock.json-7", true},
		"the target itself":          {"a.png", false},
		"temp of another file":       {".pixform-tmp-b.png-123", false},
		"no random suffix":           {".pixform-tmp-a.png-", false},
		"suffix not digits":          {".pixform-tmp-a.png-12x", false},
		"prefix of a longer base":    {".pixform-tmp-tile-3.png.bak-1", false},
		"someone else's temp":        {".tmp-a.png-123", false},
		"no dash at all":             {".pixform-tmp-a.png", false},
		"target named like the temp": {".pixform-tmp-tile-3.png", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := isTempOf(tc.name, bases); got != tc.want {
				t.Errorf("isTempOf(%q) = %v, want %v", tc.name, got, tc.want)
			}
		})
	}
}
