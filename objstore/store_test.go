package objstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// backend opens a fresh, empty store; a second call to open gives a
// second Store on the same objects (a second machine), where the backend
// can (not mem://).
type backend struct {
	open   func(t *testing.T) (*Store, func(t *testing.T) *Store)
	shared bool // open's second function reaches the same objects
}

// backends are the stores every behaviour test runs against. S3 (VersityGW)
// joins them in s3_test.go.
func backends() map[string]backend {
	b := map[string]backend{
		"mem": {open: func(t *testing.T) (*Store, func(*testing.T) *Store) {
			s := mustOpen(t, "mem://")
			return s, func(t *testing.T) *Store { return s }
		}},
		"file": {shared: true, open: func(t *testing.T) (*Store, func(*testing.T) *Store) {
			u := "file://" + t.TempDir()
			return mustOpen(t, u), func(t *testing.T) *Store { return mustOpen(t, u) }
		}},
	}
	for k, v := range extraBackends() {
		b[k] = v
	}
	return b
}

func mustOpen(t *testing.T, u string) *Store {
	t.Helper()
	s, err := Open(context.Background(), u)
	if err != nil {
		t.Fatalf("Open(%s): %v", u, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func kind(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		if KindOf(err) != e.Kind {
			panic("KindOf disagrees with errors.As")
		}
		return e.Kind
	}
	return -1
}

func TestPutGetHas(t *testing.T) {
	ctx := context.Background()
	body := bytes.Repeat([]byte("pixform image bytes "), 5000)
	sha := sum(body)
	for name, be := range backends() {
		t.Run(name, func(t *testing.T) {
			s, again := be.open(t)
			if ok, err := s.Has(ctx, sha); err != nil || ok {
				t.Fatalf("Has before Put = %v, %v; want false, nil", ok, err)
			}
			if err := s.Get(ctx, sha, io.Discard, 1<<20); kind(err) != NotFound {
				t.Fatalf("Get before Put: %v, want kind NotFound", err)
			}
			if err := s.Put(ctx, sha, bytes.NewReader(body)); err != nil {
				t.Fatalf("Put: %v", err)
			}
			// A second Put of the same bytes, as another machine would: success.
			if err := again(t).Put(ctx, sha, bytes.NewReader(body)); err != nil {
				t.Fatalf("second Put: %v", err)
			}
			if ok, err := again(t).Has(ctx, sha); err != nil || !ok {
				t.Fatalf("Has after Put = %v, %v; want true, nil", ok, err)
			}
			var out bytes.Buffer
			if err := again(t).Get(ctx, sha, &out, int64(len(body))); err != nil {
				t.Fatalf("Get: %v", err)
			}
			if !bytes.Equal(out.Bytes(), body) {
				t.Fatalf("Get returned %d bytes, not what was put", out.Len())
			}
			if err := s.Get(ctx, sha, io.Discard, int64(len(body)-1)); kind(err) != TooLarge {
				t.Fatalf("Get over the cap: %v, want kind TooLarge", err)
			}
		})
	}
}

func TestPutRefusesWrongBytes(t *testing.T) {
	ctx := context.Background()
	for name, be := range backends() {
		t.Run(name, func(t *testing.T) {
			s, _ := be.open(t)
			sha := sum([]byte("the real bytes"))
			err := s.Put(ctx, sha, strings.NewReader("other bytes"))
			if kind(err) != Corrupt {
				t.Fatalf("Put of bytes that do not hash to the name: %v, want kind Corrupt", err)
			}
			if ok, err := s.Has(ctx, sha); err != nil || ok {
				t.Fatalf("Has after a refused Put = %v, %v; want false: nothing may be published", ok, err)
			}
			// The right bytes can still be put afterwards.
			if err := s.Put(ctx, sha, strings.NewReader("the real bytes")); err != nil {
				t.Fatalf("Put after a refused Put: %v", err)
			}
		})
	}
}

func TestPutExistingWithOtherSize(t *testing.T) {
	ctx := context.Background()
	body := []byte("image")
	sha := sum(body)
	for name, be := range backends() {
		t.Run(name, func(t *testing.T) {
			s, _ := be.open(t)
			// Someone wrote garbage under the name, bypassing Put.
			w, err := s.bucket.NewWriter(ctx, ObjectKey(sha), nil)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(w, "garbage, longer than the image")
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if err := s.Put(ctx, sha, bytes.NewReader(body)); kind(err) != Corrupt {
				t.Errorf("Put over an object of another size: %v, want kind Corrupt", err)
			}
			var out bytes.Buffer
			err = s.Get(ctx, sha, &out, 1<<20)
			if kind(err) != Corrupt {
				t.Errorf("Get of a corrupt object: %v, want kind Corrupt", err)
			}
			if err != nil && !strings.Contains(err.Error(), ObjectKey(sha)) {
				t.Errorf("error %q does not name the object", err)
			}
		})
	}
}

func TestConcurrentPut(t *testing.T) {
	ctx := context.Background()
	body := bytes.Repeat([]byte{7}, 300<<10)
	sha := sum(body)
	for name, be := range backends() {
		t.Run(name, func(t *testing.T) {
			_, again := be.open(t)
			stores := []*Store{again(t), again(t), again(t), again(t)}
			var wg sync.WaitGroup
			errs := make([]error, len(stores))
			for i, s := range stores {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = s.Put(ctx, sha, bytes.NewReader(body))
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("Put %d: %v", i, err)
				}
			}
			if err := stores[0].Get(ctx, sha, io.Discard, 1<<20); err != nil {
				t.Errorf("Get after concurrent Puts: %v", err)
			}
		})
	}
}

func TestBadKeys(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, "mem://")
	for _, k := range []string{"", "ab", strings.Repeat("A", 64), strings.Repeat("a", 63) + "/", "../../" + strings.Repeat("a", 58)} {
		if _, err := s.Has(ctx, k); kind(err) != BadKey {
			t.Errorf("Has(%q): %v, want kind BadKey", k, err)
		}
		if err := s.Put(ctx, k, strings.NewReader("")); kind(err) != BadKey {
			t.Errorf("Put(%q): %v, want kind BadKey", k, err)
		}
		if err := s.Get(ctx, k, io.Discard, 10); kind(err) != BadKey {
			t.Errorf("Get(%q): %v, want kind BadKey", k, err)
		}
		if _, _, err := s.GetInputs(ctx, k); kind(err) != BadKey {
			t.Errorf("GetInputs(%q): %v, want kind BadKey", k, err)
		}
	}
	for _, k := range []string{"", ".hidden", "a/b", "../x", strings.Repeat("k", 201), "sp ace"} {
		if _, err := s.Lock(ctx, k, LockInfo{}, 0); kind(err) != BadKey {
			t.Errorf("Lock(%q): %v, want kind BadKey", k, err)
		}
	}
}

func TestInputs(t *testing.T) {
	ctx := context.Background()
	digest := sum([]byte("inputs"))
	rec := Record{SHA256: sum([]byte("img")), Provider: "imagine", MediaType: "image/png", Bytes: 3, Width: 1024, Height: 768}
	for name, be := range backends() {
		t.Run(name, func(t *testing.T) {
			s, again := be.open(t)
			if _, ok, err := s.GetInputs(ctx, digest); err != nil || ok {
				t.Fatalf("GetInputs before PutInputs: %v, %v", ok, err)
			}
			if err := s.PutInputs(ctx, digest, rec); err != nil {
				t.Fatalf("PutInputs: %v", err)
			}
			// Another machine rendered the same inputs to other bytes: the
			// first record stays, and that is success.
			other := rec
			other.SHA256 = sum([]byte("other"))
			if err := again(t).PutInputs(ctx, digest, other); err != nil {
				t.Fatalf("second PutInputs: %v", err)
			}
			got, ok, err := again(t).GetInputs(ctx, digest)
			if err != nil || !ok || got != rec {
				t.Fatalf("GetInputs = %+v, %v, %v; want %+v", got, ok, err, rec)
			}
			if err := s.PutInputs(ctx, digest, Record{SHA256: "nope"}); kind(err) != BadKey {
				t.Errorf("PutInputs of an invalid record: %v, want kind BadKey", err)
			}
		})
	}
}

func TestGetInputsCorrupt(t *testing.T) {
	ctx := context.Background()
	for name, body := range map[string]string{
		"not json":  "<html>",
		"bad sha":   `{"sha256":"../../etc/passwd","bytes":1}`,
		"negative":  `{"sha256":"` + sum(nil) + `","bytes":-1}`,
		"too large": `{"sha256":"` + sum(nil) + `","provider":"` + strings.Repeat("x", maxRecordBytes) + `"}`,
	} {
		t.Run(name, func(t *testing.T) {
			s := mustOpen(t, "mem://")
			digest := sum([]byte(name))
			if err := s.bucket.WriteAll(ctx, InputsKey(digest), []byte(body), nil); err != nil {
				t.Fatal(err)
			}
			_, ok, err := s.GetInputs(ctx, digest)
			if ok || (kind(err) != Corrupt && kind(err) != TooLarge) {
				t.Errorf("GetInputs of %s: ok %v, err %v; want kind Corrupt or TooLarge", name, ok, err)
			}
		})
	}
}

func TestLayout(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := mustOpen(t, "file://"+dir)
	body := []byte("layout")
	sha := sum(body)
	if err := s.Put(ctx, sha, bytes.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	digest := sum([]byte("in"))
	if err := s.PutInputs(ctx, digest, Record{SHA256: sha, Bytes: int64(len(body))}); err != nil {
		t.Fatal(err)
	}
	l, err := s.Lock(ctx, "dirkey", LockInfo{Holder: "ann"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"sha256/" + sha[:2] + "/" + sha, "inputs/" + digest, "locks/dirkey"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("layout: %v", err)
		}
	}
	var names []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			names = append(names, rel)
		}
		return nil
	})
	if len(names) != 3 {
		t.Errorf("the store holds %v, want exactly the object, the record and the lock (no temp or sidecar files)", names)
	}
	if err := l.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestPrefix(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, "mem://bucket/team/site")
	body := []byte("p")
	if err := s.Put(ctx, sum(body), bytes.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	if s.String() != "mem://bucket/team/site" {
		t.Errorf("String() = %q", s.String())
	}
}

func TestOpenFileErrors(t *testing.T) {
	ctx := context.Background()
	missing := filepath.Join(t.TempDir(), "nope")
	_, err := Open(ctx, "file://"+missing)
	if kind(err) != NoBucket || !strings.Contains(err.Error(), "file://"+missing) {
		t.Errorf("Open of a missing directory: %v, want kind NoBucket naming the URL", err)
	}
	f := filepath.Join(t.TempDir(), "f")
	os.WriteFile(f, nil, 0o644)
	if _, err := Open(ctx, "file://"+f); kind(err) != NoBucket {
		t.Errorf("Open of a file: %v, want kind NoBucket", err)
	}
	if _, err := Open(ctx, "s3://k:secretvalue@b"); kind(err) != BadURL || strings.Contains(err.Error(), "secretvalue") {
		t.Errorf("Open of a URL with a secret: %v", err)
	}
}

func TestGetStopsWithContext(t *testing.T) {
	s := mustOpen(t, "mem://")
	body := []byte("x")
	if err := s.Put(context.Background(), sum(body), bytes.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Get(ctx, sum(body), io.Discard, 10)
	if err == nil || !errors.Is(err, context.Canceled) && kind(err) != Canceled {
		t.Errorf("Get with a canceled context: %v", err)
	}
}
