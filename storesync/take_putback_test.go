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
// bytes the store lacks comes by that record.
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
	}{
		{"the store holds both takes", [][]byte{one, two, other1, other2}, one, two, false},
		{"the store lacks take 2", [][]byte{one, other1, other2}, one, other2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newFake()
			for _, b := range tc.objects {
				r.objects[sum(b)] = b
			}
			r.records[d1] = Record{SHA256: sum(other1), Provider: providers.Imagine, Bytes: int64(len(other1))}
			r.records[d2] = Record{SHA256: sum(other2), Provider: providers.Imagine, Bytes: int64(len(other2))}
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
			if err := s.Check(ctx, sums); err != nil {
				t.Fatal(err)
			}
			p := &planner.Plan{Provider: providers.Imagine, Changes: []planner.Change{{
				Addr: addrs.MustParse("image.a"), PriorAddr: addrs.MustParse("image.a"), Action: planner.Replace,
				Inputs: e.Inputs, Path: e.Path, Prior: &e, FromStore: true, StoreSHA256: e.SHA256, PutBack: bytes.Equal(tc.want2, two),
			}}}
			c := s.Cache(ctx, nil, p)
			for _, take := range []struct {
				d    string
				want []byte
			}{{d1, tc.want1}, {d2, tc.want2}} {
				var b bytes.Buffer
				if err := c.CopyTo(take.d, providers.Imagine, &b); err != nil {
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
