package state

import (
	"errors"
	"strings"
	"testing"

	"github.com/pixform/pixform/addrs"
)

func TestParseLockNamesConflictedAddresses(t *testing.T) {
	base := NewLock()
	base.Images[addrs.MustParse("image.a")] = entryN(0)
	base.Images[addrs.MustParse("image.same")] = entryN(1)
	ours, theirs := NewLock(), NewLock()
	for k, e := range base.Images {
		ours.Images[k], theirs.Images[k] = e, e
	}
	a := entryN(0)
	a.Inputs.Seed = 43
	a.SHA256 = strings.Repeat("b", 64)
	ours.Images[addrs.MustParse("image.a")] = a
	a = entryN(0)
	a.Inputs.Prompt = "a silver fox"
	a.SHA256 = strings.Repeat("c", 64)
	theirs.Images[addrs.MustParse("image.a")] = a
	theirs.Images[addrs.MustParse(`image.icon["new"]`)] = entryN(2)
	o, th := string(ours.Marshal()), string(theirs.Marshal())

	tests := map[string]struct {
		data string
		want []string
		not  []string
	}{
		"two-way": {
			data: "<<<<<<< HEAD\n" + o + "=======\n" + th + ">>>>>>> feature\n",
			want: []string{
				"f.json:1:1: unresolved merge conflict in f.json at line 1: 2 images differ between ours (HEAD) and theirs (feature):",
				"\n  image.a:\n    prompt: ours \"prompt number 0",
				`theirs "a silver fox"`,
				"\n    seed: ours 43, theirs 1\n",
				"\n    sha256: ours bbbbbbbbbbbb…, theirs cccccccccccc…\n",
				"\n  image.icon[\"new\"]: only in theirs (feature)\n",
				"keep one side of each marked entry",
			},
			not: []string{"image.same", "style:"},
		},
		"diff3 with a base part": {
			data: "<<<<<<< ours\n" + o + "||||||| base\n" + string(base.Marshal()) + "=======\n" + th + ">>>>>>> theirs\n",
			want: []string{"2 images differ between ours and theirs", "seed: ours 43, theirs 1"},
		},
		"unbalanced markers name the line only": {
			data: o + "<<<<<<< HEAD\n",
			want: []string{"at line 36: keep one side of each marked entry"},
			not:  []string{"differ"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := ParseLock([]byte(tc.data), "dir/f.json")
			var le *LockError
			if !errors.As(err, &le) {
				t.Fatalf("got %v, want a *LockError", err)
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message lacks %q:\n%s", w, msg)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(msg, n) {
					t.Errorf("message has %q:\n%s", n, msg)
				}
			}
		})
	}
}
