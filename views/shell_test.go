package views

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// A command ShellCommand gives reads back, in a POSIX shell, as the very
// words it was given; a word that would not show as it is gives none.
func TestShellCommand(t *testing.T) {
	tests := map[string]struct {
		args []string
		want string // "" for none
	}{
		"plain":         {[]string{"pixform", "plan", "-target=image.a", "-out=p.bin"}, "pixform plan -target=image.a -out=p.bin"},
		"space":         {[]string{"-var-file=my vars.hcl"}, "'-var-file=my vars.hcl'"},
		"quotes":        {[]string{`-var=t=neon "blue" it's`}, `'-var=t=neon "blue" it'\''s'`},
		"dollar":        {[]string{"-var=t=$HOME $(id) `id`"}, "'-var=t=$HOME $(id) `id`'"},
		"glob":          {[]string{`-target=image.icon["home"]`, "-var=t=*"}, `'-target=image.icon["home"]' '-var=t=*'`},
		"empty":         {[]string{"-var=t=", ""}, "-var=t= ''"},
		"unicode":       {[]string{"-var=t=café ☕"}, "'-var=t=café ☕'"},
		"newline":       {[]string{"-var=t=a\nb"}, ""},
		"escape":        {[]string{"-var=t=\x1b[31mred"}, ""},
		"bidi":          {[]string{"-var=t=\u202eevil"}, ""},
		"invalid utf-8": {[]string{"-var=t=\xff"}, ""},
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to read the commands back")
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := ShellCommand(tt.args...)
			if got != tt.want || ok != (tt.want != "") {
				t.Fatalf("ShellCommand(%q) = %q, %v; want %q", tt.args, got, ok, tt.want)
			}
			if !ok {
				return
			}
			out, err := exec.Command(sh, "-c", "set -- "+got+`; for w do printf '%s\0' "$w"; done`).Output()
			if err != nil {
				t.Fatal(err)
			}
			words := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
			if !slices.Equal(words, tt.args) {
				t.Errorf("the shell reads %q back as %q", got, words)
			}
		})
	}
}
