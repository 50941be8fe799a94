package addrs

import "testing"

// TestCompareFollowsLess: Compare orders every pair as Less does.
func TestCompareFollowsLess(t *testing.T) {
	list := []Addr{
		{Name: "a"}, {Name: "b"}, {Name: "a", Kind: StringKey, Key: ""}, {Name: "a", Kind: StringKey, Key: "k"},
		{Name: "a", Kind: StringKey, Key: "l"}, {Name: "a", Kind: IntKey, Index: 0}, {Name: "a", Kind: IntKey, Index: 2},
		{Name: "a", Kind: IntKey, Index: 10}, {Name: "img10"}, {Name: "img9"}, {Name: "b", Kind: StringKey, Key: "k"},
		{Name: "a", Key: "ignored"}, {Name: "a", Kind: StringKey, Key: "k", Index: 3},
	}
	for _, a := range list {
		for _, b := range list {
			want := 0
			switch {
			case a.Less(b):
				want = -1
			case b.Less(a):
				want = 1
			}
			if got := a.Compare(b); got != want {
				t.Errorf("%#v.Compare(%#v) = %d, want %d", a, b, got, want)
			}
		}
	}
}

func FuzzCompareFollowsLess(f *testing.F) {
	f.Add("a", uint8(1), "k", 0, "a", uint8(2), "", 3)
	f.Fuzz(func(t *testing.T, an string, ak uint8, akey string, ai int, bn string, bk uint8, bkey string, bi int) {
		a := Addr{Name: an, Kind: KeyKind(ak % 3), Key: akey, Index: ai}
		b := Addr{Name: bn, Kind: KeyKind(bk % 3), Key: bkey, Index: bi}
		want := 0
		switch {
		case a.Less(b):
			want = -1
		case b.Less(a):
			want = 1
		}
		if got := a.Compare(b); got != want {
			t.Errorf("%#v.Compare(%#v) = %d, want %d", a, b, got, want)
		}
	})
}
