package storesync

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"testing"

	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

// mapCache is a LocalCache of bytes by digest.
type mapCache map[string][]byte

func (m mapCache) Has(d, _ string) bool { _, ok := m[d]; return ok }
func (m mapCache) Open(d, _ string) (io.ReadCloser, error) {
	b, ok := m[d]
	if !ok {
		return nil, fs.ErrNotExist
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// takesEntry is an entry with two takes, the first at its path.
func takesEntry(one, two []byte) state.Entry {
	in := state.Inputs{Prompt: "p", Style: "flux-dev", AspectRatio: "1:1", Seed: 1, Candidates: 2}
	e := state.Entry{Inputs: in, Provider: providers.Imagine, Path: "a.png", MediaType: "image/png", Width: 1, Height: 1}
	seeds := in.TakeSeeds()
	return e.WithTakes([]state.Take{
		{Seed: seeds[0], SHA256: sum(one), Bytes: int64(len(one)), MediaType: "image/png", Width: 1, Height: 1},
		{Seed: seeds[1], SHA256: sum(two), Bytes: int64(len(two)), MediaType: "image/png", Width: 1, Height: 1},
	}, 1, false)
}

func TestUploadTake(t *testing.T) {
	one, two := []byte("take one"), []byte("take two")
	e := takesEntry(one, two)
	d2 := e.Inputs.Take(e.Takes[1].Seed).Digest()
	tests := []struct {
		name     string
		cache    mapCache
		inStore  bool
		wantFile bool // a FileError: the take cannot go up from here
		wantPut  int
	}{
		{name: "from the cache", cache: mapCache{d2: two}, wantPut: 1},
		{name: "already in the store", cache: mapCache{}, inStore: true},
		{name: "nowhere", cache: mapCache{}, wantFile: true},
		{name: "cached copy corrupt", cache: mapCache{d2: []byte("other bytes")}, wantFile: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newFake()
			if tt.inStore {
				r.objects[sum(two)] = two
			}
			s, err := New(t.TempDir(), r, 2)
			if err != nil {
				t.Fatal(err)
			}
			err = s.uploadTake(context.Background(), tt.cache, e.Path, e, 2)
			if tt.wantFile {
				if !errors.As(err, new(*FileError)) {
					t.Fatalf("err = %v, want a FileError", err)
				}
				if s.InStore(sum(two)) || len(r.records) > 0 {
					t.Fatalf("a take that did not go up is noted or recorded")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.puts != tt.wantPut {
				t.Errorf("%d puts, want %d", r.puts, tt.wantPut)
			}
			if rec := r.records[d2]; rec.SHA256 != sum(two) || rec.Bytes != int64(len(two)) {
				t.Errorf("record of the take's inputs = %+v", rec)
			}
			if !s.InStore(sum(two)) {
				t.Error("the take is not noted as in the store")
			}
		})
	}
}

// The entry's own upload records the take at its path under the take's
// inputs too, and a fetch of a take brings it, verified, into a cache.
func TestUploadRecordsTakeAtPathAndFetchTake(t *testing.T) {
	one, two := []byte("take one"), []byte("take two")
	e := takesEntry(one, two)
	dir := t.TempDir()
	r := newFake()
	s, err := New(dir, r, 2)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := state.WriteFileAtomic(dir+"/a.png", one); err != nil {
		t.Fatal(err)
	}
	if err := s.upload(ctx, e.Path, e); err != nil {
		t.Fatal(err)
	}
	if rec := r.records[e.Inputs.Take(e.Takes[0].Seed).Digest()]; rec.SHA256 != sum(one) {
		t.Fatalf("the take at the path is not recorded under its own inputs: %+v", rec)
	}
	if err := s.uploadTake(ctx, mapCache{e.Inputs.Take(e.Takes[1].Seed).Digest(): two}, e.Path, e, 2); err != nil {
		t.Fatal(err)
	}
	cache := state.OpenCache(dir)
	if err := s.FetchTake(ctx, cache, e, 2); err != nil {
		t.Fatal(err)
	}
	if info, ok := cache.Info(e.Inputs.Take(e.Takes[1].Seed).Digest(), e.Provider); !ok || info.SHA256 != sum(two) {
		t.Fatalf("fetched take not in the cache: %+v %v", info, ok)
	}
	// A corrupt object is refused even when the store's Get (here the
	// fake's) does not verify it.
	r.objects[sum(one)] = []byte("tampered")
	cache2 := state.OpenCache(t.TempDir())
	if err := s.FetchTake(ctx, cache2, e, 1); err == nil {
		t.Fatal("FetchTake took a tampered object")
	}
	if info, ok := cache2.Info(e.Inputs.Take(e.Takes[0].Seed).Digest(), e.Provider); ok {
		t.Fatalf("a tampered object went into the cache: %+v", info)
	}
}
