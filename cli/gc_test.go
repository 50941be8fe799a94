package cli

import "testing"

func TestGCPercentFor(t *testing.T) {
	tests := map[string]struct {
		args []string
		want int // 0: keep the default
	}{
		"plan":           {args: []string{"plan"}, want: 400},
		"validate":       {args: []string{"validate", "-json"}, want: 400},
		"global options": {args: []string{"-chdir=x", "-no-color", "plan", "-out=p"}, want: 400},
		"apply":          {args: []string{"apply", "-auto-approve"}},
		"watch":          {args: []string{"-chdir=plan", "watch"}},
		"plan as an arg": {args: []string{"show", "plan"}},
		"no command":     {args: nil},
		"only an option": {args: []string{"-version"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := GCPercentFor(tc.args)
			if ok != (tc.want != 0) || got != tc.want {
				t.Errorf("GCPercentFor(%q) = %d, %v; want %d", tc.args, got, ok, tc.want)
			}
		})
	}
}
