package storesync

import (
	"bytes"
	"context"
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
)

// An apply that puts a candidates image back from the store restores
// each take by the sha256 its entry records when the store holds it, as
// the plan put it back, not by the store's record of the take's inputs
// (the first render anyone pushed, an equally valid one); a take whose
// bytes the store lacks comes by that record, and one the store has no
// record of either fails (no render the plan did not count). The takes
// are so restored whatever this checkout's note knows (a saved plan
// applied where .pixform is gone: nothing checked before) and at another
// path (a moved image).
func TestCacheTakesPutBackByRecordedSHA256(t *testing.T) {
	one, two := []byte("take one"), []byte("take two")
	other1, other2 := []byte("another take one"), []byte("another take two")
	e := takesEntry(one, two)
	d1, d2 := e.Inputs.Take(e.Takes[0].Seed).Digest(), e.Inputs.Take(e.Takes[1].Seed).Digest()
	for _, tc := range []struct {
		name       string
		objects    [][]byte
		want1      []byte
		want2      []byte
		wantLookup bool // the store's record of take 2's inputs is read
		unchecked  bool // nothing asked of the store before (a saved plan, no note)
		path       string
		noRecord2  bool // the store has no record of take 2's inputs
		storeTakes bool // the plan says which takes it restores by their object
	}{
		{name: "the store holds both takes", objects: [][]byte{one, two, other1, other2}, want1: one, want2: two},
		{name: "the store lacks take 2", objects: [][]byte{one, other1, other2}, want1: one, want2: other2, wantLookup: true},
		{name: "a saved plan, nothing checked", objects: [][]byte{one, two, other1, other2}, want1: one, want2: two, unchecked: true},
		{name: "a saved plan, the store lacks take 2", objects: [][]byte{one, other1, other2}, want1: one, want2: other2, wantLookup: true, unchecked: true},
		{name: "moved", objects: [][]byte{one, two, other1, other2}, want1: one, want2: two, path: "images/moved.png"},
		{name: "the plan says so", objects: [][]byte{one, two, other1, other2}, want1: one, want2: two, unchecked: true, storeTakes: true},
		{name: "the plan says take 2 by its object, which the store no longer holds", objects: [][]byte{one, other1, other2}, want1: one, unchecked: true, storeTakes: true},
		{name: "the store lacks take 2 and any record of it", objects: [][]byte{one, other1}, want1: one, unchecked: true, noRecord2: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newFake()
			for _, b := range tc.objects {
				r.objects[sum(b)] = b
			}
			r.records[d1] = Record{SHA256: sum(other1), Provider: providers.Imagine, Bytes: int64(len(other1))}
			if !tc.noRecord2 {
				r.records[d2] = Record{SHA256: sum(other2), Provider: providers.Imagine, Bytes: int64(len(other2))}
			}
			s, err := New(t.TempDir(), r, 2)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			var sums []string
			for _, b := range tc.objects {
				sums = append(sums, sum(b))
			}
			sums = append(sums, sum(two))
			if !tc.unchecked {
				if err := s.Check(ctx, sums); err != nil {
					t.Fatal(err)
				}
			}
			path := e.Path
			if tc.path != "" {
				path = tc.path
			}
			p := &planner.Plan{Provider: providers.Imagine, Changes: []planner.Change{{
				Addr: addrs.MustParse("image.a"), PriorAddr: addrs.MustParse("image.a"), Action: planner.Replace,
				Inputs: e.Inputs, Path: path, Prior: &e, FromStore: true, StoreSHA256: e.SHA256, PutBack: bytes.Equal(tc.want2, two),
			}}}
			if tc.storeTakes {
				p.Changes[0].StoreTakes = []string{e.Takes[0].SHA256, e.Takes[1].SHA256}
			}
			c := s.Cache(ctx, nil, p)
			for _, take := range []struct {
				d    string
				want []byte
			}{{d1, tc.want1}, {d2, tc.want2}} {
				var b bytes.Buffer
				err := c.CopyTo(take.d, providers.Imagine, &b)
				if take.want == nil {
					if err == nil {
						t.Errorf("take restored as %q, want a failure", b.Bytes())
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(b.Bytes(), take.want) {
					t.Errorf("take restored as %q, want %q", b.Bytes(), take.want)
				}
			}
			if _, read := s.records[d1]; read {
				t.Error("the record of take 1's inputs was read")
			}
			if _, read := s.records[d2]; read != tc.wantLookup {
				t.Errorf("the record of take 2's inputs read: %v, want %v", read, tc.wantLookup)
			}
		})
	}
}
