package addrs

import (
	"cmp"
	"slices"
	"strconv"
	"testing"
)

func TestParse(t *testing.T) {
	tests := map[string]struct {
		in      string
		want    Addr
		wantErr bool
	}{
		"plain":            {in: "image.hero", want: Addr{Name: "hero"}},
		"without prefix":   {in: "hero", want: Addr{Name: "hero"}},
		"keyed":            {in: `image.icon["home"]`, want: Addr{Name: "icon", Kind: StringKey, Key: "home"}},
		"key with quote":   {in: `image.icon["a\"b"]`, want: Addr{Name: "icon", Kind: StringKey, Key: `a"b`}},
		"indexed":          {in: "image.v[12]", want: Addr{Name: "v", Kind: IntKey, Index: 12}},
		"spaces trimmed":   {in: "  image.hero ", want: Addr{Name: "hero"}},
		"empty":            {in: "", wantErr: true},
		"bad name":         {in: "image.9lives", wantErr: true},
		"unclosed":         {in: "image.v[1", wantErr: true},
		"negative index":   {in: "image.v[-1]", wantErr: true},
		"unquoted key":     {in: "image.v[home]", wantErr: true},
		"bad quoted key":   {in: `image.v["x]`, wantErr: true},
		"trailing garbage": {in: "image.v[1]x", wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Parse(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Parse(%q) error = %v, want error %v", tc.in, err, tc.wantErr)
			}
			if err == nil && got != tc.want {
				t.Errorf("Parse(%q) = %#v, want %#v", tc.in, got, tc.want)
			}
			if err == nil {
				back, err := Parse(got.String())
				if err != nil || back != got {
					t.Errorf("round trip of %s = %#v, %v", got, back, err)
				}
			}
		})
	}
}

func TestAddrOrder(t *testing.T) {
	sorted := []Addr{
		{Name: "a"},
		{Name: "a", Kind: StringKey, Key: "x"},
		{Name: "a", Kind: StringKey, Key: "y"},
		{Name: "a", Kind: IntKey, Index: 2},
		{Name: "a", Kind: IntKey, Index: 10},
		{Name: "b"},
	}
	shuffled := []Addr{sorted[5], sorted[3], sorted[0], sorted[4], sorted[2], sorted[1]}
	slices.SortFunc(shuffled, Addr.Compare)
	if !slices.Equal(shuffled, sorted) {
		t.Errorf("sorted = %v, want %v", shuffled, sorted)
	}
	tests := map[string]struct {
		a, b Addr
		want int
	}{
		"equal":         {Addr{Name: "a"}, Addr{Name: "a"}, 0},
		"name first":    {Addr{Name: "a", Kind: IntKey, Index: 9}, Addr{Name: "b"}, -1},
		"numeric index": {Addr{Name: "a", Kind: IntKey, Index: 10}, Addr{Name: "a", Kind: IntKey, Index: 9}, 1},
		"block first":   {Addr{Name: "a"}, Addr{Name: "a", Kind: StringKey, Key: ""}, -1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.a.Compare(tc.b); got != tc.want {
				t.Errorf("Compare(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
			}
			if tc.a.Equal(tc.b) != (tc.want == 0) {
				t.Errorf("Equal(%s, %s) disagrees with Compare", tc.a, tc.b)
			}
		})
	}
	if got := (Addr{Name: "icon", Kind: StringKey, Key: "k"}).Block(); got != (Addr{Name: "icon"}) {
		t.Errorf("Block() = %v", got)
	}
}

func TestSortStrings(t *testing.T) {
	keys := []string{`image.b`, `not an address`, `image.a[10]`, `image.a["x"]`, `image.a[9]`, `image.a`, `!bad`}
	SortStrings(keys)
	want := []string{`image.a`, `image.a["x"]`, `image.a[9]`, `image.a[10]`, `image.b`, `!bad`, `not an address`}
	for i := range want {
		if keys[i] != want[i] {
			t.Fatalf("got %q, want %q", keys, want)
		}
	}
	for i := range want {
		for j := range want {
			if got, exp := CompareStrings(want[i], want[j]), cmp.Compare(i, j); got != exp {
				t.Errorf("CompareStrings(%q, %q) = %d, want %d", want[i], want[j], got, exp)
			}
		}
	}
}

func TestMustParse(t *testing.T) {
	if got, want := MustParse(`image.a[10]`), (Addr{Name: "a", Kind: IntKey, Index: 10}); got != want {
		t.Errorf("MustParse = %#v, want %#v", got, want)
	}
	defer func() {
		if recover() == nil {
			t.Error("MustParse of an invalid address did not panic")
		}
	}()
	MustParse("image.a[")
}

// TestStringQuotesKeys: a key is quoted as strconv.Quote quotes it, whether
// or not it needs escapes.
func TestStringQuotesKeys(t *testing.T) {
	keys := []string{"", "v0", "a b", "~!@#$%^&*()_+{}|:<>?`-=[];',./", "q\"", "b\\", "tab\t", "nl\n", "\x7f", "é", "\xff", "日本"}
	for c := 0; c < 0x80; c++ {
		keys = append(keys, "k"+string(rune(c)))
	}
	for _, k := range keys {
		a := Addr{Name: "x", Kind: StringKey, Key: k}
		if got, want := a.String(), "image.x["+strconv.Quote(k)+"]"; got != want {
			t.Errorf("key %q: String() = %s, want %s", k, got, want)
		}
	}
}

// TestShellWord: an address printed in a command that the user pastes
// into a shell is one word there, as it was written: a key's quotes and
// brackets are quoted (a shell turns image.icons["home"] into
// image.icons[home], and may glob [0]).
func TestShellWord(t *testing.T) {
	for in, want := range map[string]string{
		"image.hero":           "image.hero",
		"image.hero_2-x":       "image.hero_2-x",
		`image.icons["home"]`:  `'image.icons["home"]'`,
		"image.variant[0]":     "'image.variant[0]'",
		`image.icons["it's"]`:  `'image.icons["it'\''s"]'`,
		`image.icons["a b$c"]`: `'image.icons["a b$c"]'`,
		`image.icons["x\"y"]`:  `'image.icons["x\"y"]'`,
	} {
		a := MustParse(in)
		if got := a.ShellWord(); got != want {
			t.Errorf("ShellWord(%s) = %s, want %s", in, got, want)
		}
	}
}
