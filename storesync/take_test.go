package storesync

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"testing"
	"time"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/planner"
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
	if err := s.FetchTake(ctx, localStore(t, dir), cache, addrs.Addr{}, e, 2); err != nil {
		t.Fatal(err)
	}
	if info, ok := cache.Info(e.Inputs.Take(e.Takes[1].Seed).Digest(), e.Provider); !ok || info.SHA256 != sum(two) {
		t.Fatalf("fetched take not in the cache: %+v %v", info, ok)
	}
	// A corrupt object is refused even when the store's Get (here the
	// fake's) does not verify it.
	r.objects[sum(one)] = []byte("tampered")
	cache2 := state.OpenCache(t.TempDir())
	if err := s.FetchTake(ctx, localStore(t, dir), cache2, addrs.Addr{}, e, 1); err == nil {
		t.Fatal("FetchTake took a tampered object")
	}
	if info, ok := cache2.Info(e.Inputs.Take(e.Takes[0].Seed).Digest(), e.Provider); ok {
		t.Fatalf("a tampered object went into the cache: %+v", info)
	}
}

// commitTakes keeps take 2 of a two-take image a in cache, as apply keeps
// every take as it arrives, then commits the image with take 1 at path.
func commitTakes(t *testing.T, st state.Store, cache *state.Cache, a, path string, one, two []byte) state.Entry {
	t.Helper()
	e := takesEntry(one, two)
	e.Inputs.Prompt = a
	seeds := e.Inputs.TakeSeeds()
	e = e.WithTakes([]state.Take{
		{Seed: seeds[0], SHA256: sum(one), Bytes: int64(len(one)), MediaType: "image/png", Width: 1, Height: 1},
		{Seed: seeds[1], SHA256: sum(two), Bytes: int64(len(two)), MediaType: "image/png", Width: 1, Height: 1},
	}, 1, false)
	e.Path = path
	kept, err := st.CreateTemp(path)
	if err != nil {
		t.Fatal(err)
	}
	defer state.AbortTemp(kept)
	if _, err := kept.Write(two); err != nil {
		t.Fatal(err)
	}
	if err := cache.Keep(e.Inputs.Take(seeds[1]).Digest(), e.Provider, kept, ".png", sum(two)); err != nil {
		t.Fatal(err)
	}
	f, err := st.CreateTemp(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(one); err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(context.Background(), state.Commit{Addr: addrs.MustParse(a), Entry: e, Temp: f}); err != nil {
		t.Fatal(err)
	}
	return e
}

// A take kept in the apply's content cache after the uploads of earlier
// takes began is uploaded from it too: the uploads read the cache the
// apply keeps takes in, not a listing of the cache directory made before
// the take was kept.
func TestStoreUploadsTakesKeptAfterEarlierTakeUploads(t *testing.T) {
	dir := t.TempDir()
	r := newFake()
	s, err := New(dir, r, 1)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cache := state.OpenCache(dir) // the apply's one cache, as run.Apply opens it
	st := s.Wrap(ctx, state.OpenStore(dir, state.NewLock(), cache), &planner.Plan{})
	if err := st.Begin(ctx, nil, nil); err != nil {
		t.Fatal(err)
	}
	first := commitTakes(t, st, cache, "image.first", "first.png", []byte("first one"), []byte("first two"))
	// Wait until the first image and its other take are up: the uploads
	// have read the content cache by then.
	deadline := time.Now().Add(30 * time.Second)
	for puts := 0; puts < 2; {
		r.mu.Lock()
		puts = r.puts
		r.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("the first image's uploads did not finish: %d of 2", puts)
		}
		time.Sleep(time.Millisecond)
	}
	second := commitTakes(t, st, cache, "image.second", "second.png", []byte("second one"), []byte("second two"))
	if err := st.End(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(ctx); err != nil {
		t.Fatalf("Close = %v, want every image and take uploaded", err)
	}
	for _, e := range []state.Entry{first, second} {
		for _, tk := range e.Takes {
			if _, ok := r.objects[tk.SHA256]; !ok {
				t.Errorf("%s: take with seed %d is not in the store", e.Path, tk.Seed)
			}
		}
	}
}
