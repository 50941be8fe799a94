package objstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gocloud.dev/blob"
)

// gcsBackends are the GCS servers the driver's own tests run against:
// fake-gcs-server, and gcsFake where a test needs what the emulator does
// not do. Each opens a fresh bucket and returns the store URL and config.
func gcsBackends() map[string]func(t *testing.T) (string, openConfig) {
	return map[string]func(t *testing.T) (string, openConfig){
		"emulator": func(t *testing.T) (string, openConfig) {
			return "gs://" + gcsEmulatorBucket + "/p?anonymous=true", openConfig{gcsEndpoint: startFakeGCS(t), gcsChunk: 256 << 10}
		},
		"fake": func(t *testing.T) (string, openConfig) {
			f := newGCSFake(t, "b")
			return f.URL("p"), openConfig{gcsEndpoint: f.srv.URL, gcsChunk: 256 << 10}
		},
	}
}

// TestGCSDeleteIfMatch: the lock's delete is conditional on the generation
// read, so a lock object replaced after it was read is not removed. Only
// against gcsFake: fake-gcs-server v1.56.1 ignores ifGenerationMatch on a
// delete (checked by hand: it deletes whatever generation is given).
func TestGCSDeleteIfMatch(t *testing.T) {
	ctx := context.Background()
	f := newGCSFake(t, "b")
	s := mustOpenWith(t, f.URL("p"), openConfig{gcsEndpoint: f.srv.URL})
	key := LockKey("k")
	if err := s.bucket.WriteAll(ctx, key, []byte(`{"id":"one"}`), nil); err != nil {
		t.Fatal(err)
	}
	_, ver, err := s.readLock(ctx, key)
	if err != nil || ver.generation == 0 {
		t.Fatalf("readLock: generation %d, %v", ver.generation, err)
	}
	if err := s.bucket.WriteAll(ctx, key, []byte(`{"id":"two, written after the read"}`), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.deleteIfMatch(ctx, key, ver); kind(err) != LockLost {
		t.Errorf("delete with a stale generation: %v, want kind LockLost", err)
	}
	if ok, err := s.bucket.Exists(ctx, key); err != nil || !ok {
		t.Fatalf("the replaced lock object was removed (%v)", err)
	}
	_, ver, _ = s.readLock(ctx, key)
	if err := s.deleteIfMatch(ctx, key, ver); err != nil {
		t.Errorf("delete with the current generation: %v", err)
	}
	if ok, _ := s.bucket.Exists(ctx, key); ok {
		t.Error("the lock object is still there")
	}
}

// TestGCSGenerationFromEmulator: the emulator reports generations, which
// the lock code reads, and a delete conditional on the current one works.
func TestGCSGenerationFromEmulator(t *testing.T) {
	ctx := context.Background()
	u, cfg := gcsBackends()["emulator"](t)
	s := mustOpenWith(t, u, cfg)
	l, err := s.Lock(ctx, "k", LockInfo{Holder: "ann"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, ver, err := s.readLock(ctx, LockKey("k"))
	if err != nil || ver.generation == 0 {
		t.Fatalf("readLock: generation %d, %v", ver.generation, err)
	}
	if err := l.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestGCSResumable: an object larger than a chunk goes in a resumable
// upload, still only if absent, and nothing is published when its bytes do
// not hash to its name.
func TestGCSResumable(t *testing.T) {
	ctx := context.Background()
	body := make([]byte, 600<<10) // 3 chunks of 256 KiB, the last one partial
	rand.Read(body)
	sha := sum(body)
	for name, open := range gcsBackends() {
		t.Run(name, func(t *testing.T) {
			u, cfg := open(t)
			s := mustOpenWith(t, u, cfg)
			if err := s.Put(ctx, sum([]byte("x")), bytes.NewReader(body)); kind(err) != Corrupt {
				t.Fatalf("Put of wrong bytes: %v, want kind Corrupt", err)
			}
			if ok, err := s.Has(ctx, sum([]byte("x"))); ok || err != nil {
				t.Fatalf("Has after a refused resumable Put = %v, %v: nothing may be published", ok, err)
			}
			if err := s.Put(ctx, sha, bytes.NewReader(body)); err != nil {
				t.Fatalf("Put: %v", err)
			}
			if err := mustOpenWith(t, u, cfg).Put(ctx, sha, bytes.NewReader(body)); err != nil {
				t.Fatalf("second Put: %v", err)
			}
			// Garbage under the name, written unconditionally: Put sees
			// that the object exists (412 at the end of the upload) and
			// that its size differs.
			w, err := s.bucket.NewWriter(ctx, ObjectKey(sha), nil)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(body[:300<<10])
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if err := s.Put(ctx, sha, bytes.NewReader(body)); kind(err) != Corrupt {
				t.Errorf("Put over an object of another size: %v, want kind Corrupt", err)
			}
		})
	}
}

// TestGCSReadRangeAndList: range reads say the whole object's size, and a
// listing finds what was written under a prefix.
func TestGCSReadRangeAndList(t *testing.T) {
	ctx := context.Background()
	for name, open := range gcsBackends() {
		t.Run(name, func(t *testing.T) {
			u, cfg := open(t)
			s := mustOpenWith(t, u, cfg)
			body := []byte("0123456789")
			if err := s.Put(ctx, sum(body), bytes.NewReader(body)); err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct {
				off, n int64
				want   string
			}{{2, 3, "234"}, {7, -1, "789"}, {0, -1, "0123456789"}, {4, 0, ""}} {
				r, err := s.bucket.NewRangeReader(ctx, ObjectKey(sum(body)), tc.off, tc.n, nil)
				if err != nil {
					t.Fatalf("NewRangeReader(%d, %d): %v", tc.off, tc.n, err)
				}
				got, err := io.ReadAll(r)
				r.Close()
				if err != nil || string(got) != tc.want || r.Size() != 10 {
					t.Errorf("range %d+%d = %q (size %d), %v; want %q (size 10)", tc.off, tc.n, got, r.Size(), err, tc.want)
				}
			}
			if err := s.PutInputs(ctx, sum([]byte("in")), Record{SHA256: sum(body), Bytes: 10}); err != nil {
				t.Fatal(err)
			}
			it := s.bucket.List(&blob.ListOptions{Prefix: "sha256/"})
			var keys []string
			for {
				o, err := it.Next(ctx)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				keys = append(keys, o.Key)
			}
			if len(keys) != 1 || keys[0] != ObjectKey(sum(body)) {
				t.Errorf("List(sha256/) = %v, want the one object", keys)
			}
		})
	}
}

// TestGCSErrors: each failure a person meets is classified, names the
// store, and is retried only where a retry cannot repeat a write.
func TestGCSErrors(t *testing.T) {
	ctx := context.Background()
	f := newGCSFake(t, "b")
	cfg := openConfig{gcsEndpoint: f.srv.URL}
	u := f.URL("p")
	fail := func(method, pathPart string, code int, msg string, times int) {
		var n atomic.Int32
		f.setHook(func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method != method || !strings.Contains(r.URL.EscapedPath(), pathPart) || (times > 0 && int(n.Add(1)) > times) {
				return false
			}
			gcsFail(w, code, "x", msg)
			return true
		})
	}
	check := func(what string, err error, want Kind) {
		t.Helper()
		if kind(err) != want {
			t.Errorf("%s: %v (kind %v), want kind %v", what, err, kind(err), want)
			return
		}
		if !strings.Contains(err.Error(), "gs://") {
			t.Errorf("%s: error %q does not name the store", what, err)
		}
	}

	_, err := open(ctx, "gs://nob/p?anonymous=true", cfg)
	check("Open of a missing bucket", err, NoBucket)
	fail("GET", "/b/b/o", 401, "Invalid Credentials", 0)
	_, err = open(ctx, u, cfg)
	check("Open rejected with 401", err, BadCredentials)
	fail("GET", "/b/b/o", 403, "anonymous caller does not have storage.objects.list access", 0)
	_, err = open(ctx, u, cfg)
	check("Open refused with 403", err, AccessDenied)
	f.setHook(nil)

	s := mustOpenWith(t, u, cfg)
	absent := sum([]byte("absent"))
	err = s.Get(ctx, absent, io.Discard, 10)
	check("Get of a missing object", err, NotFound)
	if err != nil && !strings.Contains(err.Error(), ObjectKey(absent)) {
		t.Errorf("error %q does not name the object", err)
	}
	if ok, err := s.Has(ctx, absent); ok || err != nil {
		t.Errorf("Has of a missing object = %v, %v", ok, err)
	}
	fail("GET", "/o/", 404, "The specified bucket does not exist.", 0)
	err = s.Get(ctx, absent, io.Discard, 10)
	check("Get in a bucket deleted since Open", err, NoBucket)
	fail("GET", "/o/", 403, "caller does not have storage.objects.get access", 0)
	_, err = s.Has(ctx, absent)
	check("Has refused with 403", err, AccessDenied)

	// 5xx: reads are retried (gcsAttempts in all), writes are not.
	fail("GET", "/o/", 503, "Service Unavailable", 0)
	before := f.count("GET /storage/v1/b/b/o/p%2F" + strings.ReplaceAll(ObjectKey(absent), "/", "%2F"))
	err = s.Get(ctx, absent, io.Discard, 10)
	check("Get answered 503", err, Unreachable)
	if n := f.count("GET /storage/v1/b/b/o/p%2F"+strings.ReplaceAll(ObjectKey(absent), "/", "%2F")) - before; n != gcsAttempts {
		t.Errorf("a read answered 503 was sent %d times, want %d", n, gcsAttempts)
	}
	body := []byte("img")
	fail("POST", "/upload/", 503, "Service Unavailable", 0)
	before = f.count("POST /upload/storage/v1/b/b/o")
	err = s.Put(ctx, sum(body), bytes.NewReader(body))
	check("Put answered 503", err, Unreachable)
	if n := f.count("POST /upload/storage/v1/b/b/o") - before; n != 1 {
		t.Errorf("an upload answered 503 was sent %d times, want once: a retry could meet its own first attempt", n)
	}
	// 429 means the request was not taken: a write is sent again.
	fail("POST", "/upload/", 429, "rate limit", 1)
	if err := s.Put(ctx, sum(body), bytes.NewReader(body)); err != nil {
		t.Errorf("Put answered 429 once: %v", err)
	}
	// 412 on a create is "exists": Put then checks the size.
	fail("POST", "/upload/", 412, "conditionNotMet", 0)
	if err := s.Put(ctx, sum(body), bytes.NewReader(body)); err != nil {
		t.Errorf("Put of an object that exists: %v", err)
	}
	f.setHook(nil)

	// A server that accepts but never answers: the context ends the wait.
	release := make(chan struct{})
	f.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		return false
	})
	tctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, err = s.Has(tctx, absent)
	cancel()
	close(release)
	check("Has on a server that does not answer", err, Unreachable)
	f.setHook(nil)

	// A server that is gone: connection refused.
	f.srv.Close()
	_, err = open(ctx, u, cfg)
	check("Open of a stopped server", err, Unreachable)
	_, err = s.Has(ctx, absent)
	check("Has on a stopped server", err, Unreachable)
	err = s.Put(ctx, sum(body), bytes.NewReader(body))
	check("Put on a stopped server", err, Unreachable)
	_, err = s.Lock(ctx, "k", LockInfo{}, 0)
	check("Lock on a stopped server", err, Unreachable)
}

// TestGCSServerMessage: what a server says is kept short and printable.
func TestGCSServerMessage(t *testing.T) {
	f := newGCSFake(t, "b")
	f.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		gcsFail(w, 403, "forbidden", "denied\x1b[31m\nfake line"+strings.Repeat("x", 5000))
		return true
	})
	_, err := open(context.Background(), f.URL("p"), openConfig{gcsEndpoint: f.srv.URL})
	if kind(err) != AccessDenied {
		t.Fatalf("Open: %v, want kind AccessDenied", err)
	}
	if msg := err.Error(); strings.ContainsAny(msg, "\x1b\n") || len(msg) > 600 {
		t.Errorf("the server's message reaches the error as is: %q", msg)
	}
}

// TestGCSRefusesRedirects: no request, and so no token, goes to a server
// the answer names: neither by a redirect nor by a resumable session URI.
func TestGCSRefusesRedirects(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
	}))
	defer other.Close()
	f := newGCSFake(t, "b")
	cfg := openConfig{gcsEndpoint: f.srv.URL, gcsChunk: 256 << 10}
	s := mustOpenWith(t, f.URL("p"), cfg)
	f.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Query().Get("uploadType") == "resumable" {
			w.Header().Set("Location", other.URL+"/upload?upload_id=1")
			return true
		}
		http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
		return true
	})
	ctx := context.Background()
	if _, err := s.Has(ctx, sum(nil)); err == nil {
		t.Error("Has through a redirecting server succeeded")
	}
	if err := s.Get(ctx, sum(nil), io.Discard, 10); err == nil {
		t.Error("Get through a redirecting server succeeded")
	}
	small := []byte("small")
	if err := s.Put(ctx, sum(small), bytes.NewReader(small)); err == nil {
		t.Error("Put through a redirecting server succeeded: the object was never written")
	}
	if _, err := s.ForceUnlock(ctx, "k", "id"); err == nil {
		t.Error("ForceUnlock through a redirecting server succeeded")
	}
	big := make([]byte, 300<<10)
	if err := s.Put(ctx, sum(big), bytes.NewReader(big)); err == nil || !strings.Contains(err.Error(), "another server") {
		t.Errorf("Put whose session URI is elsewhere: %v", err)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("%d requests went to the other server", n)
	}
}

// gcsCredentials writes an Application Default Credentials file of type
// typ (service_account: a key; authorized_user: gcloud's refresh token)
// whose token endpoint is tokenURL, and points
// GOOGLE_APPLICATION_CREDENTIALS at it.
func gcsCredentials(t *testing.T, typ, tokenURL string) {
	var doc map[string]string
	switch typ {
	case "service_account":
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		der, _ := x509.MarshalPKCS8PrivateKey(key)
		doc = map[string]string{
			"type": "service_account", "project_id": "p", "private_key_id": "kid",
			"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
			"client_email": "pixform@p.iam.gserviceaccount.com", "client_id": "1", "token_uri": tokenURL,
		}
	case "authorized_user":
		doc = map[string]string{
			"type": "authorized_user", "client_id": "cid", "client_secret": "csecret",
			"refresh_token": "MARKER-refresh-token", "token_uri": tokenURL,
		}
	}
	j, _ := json.Marshal(doc)
	p := filepath.Join(t.TempDir(), "adc.json")
	if err := os.WriteFile(p, j, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", p)
}

// TestGCSCredentials: Application Default Credentials (a service account
// key file) give a token that every request carries; a refresh after Open
// returned still works; a token endpoint that refuses the key is
// BadCredentials; the token never appears in an error.
func TestGCSCredentials(t *testing.T) {
	for _, typ := range []string{"service_account", "authorized_user"} {
		t.Run(typ, func(t *testing.T) { testGCSCredentials(t, typ) })
	}
}

func testGCSCredentials(t *testing.T, typ string) {
	const token = "ya29.MARKER-access-token-5d1c"
	var tokens atomic.Int32
	var refuse atomic.Bool
	tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		granted := r.Form.Get("grant_type") == "urn:ietf:params:oauth:grant-type:jwt-bearer" && r.Form.Get("assertion") != "" ||
			r.Form.Get("grant_type") == "refresh_token" && r.Form.Get("refresh_token") == "MARKER-refresh-token"
		if refuse.Load() || !granted {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`)
			return
		}
		tokens.Add(1)
		w.Header().Set("Content-Type", "application/json")
		// Expiring at once: every request fetches a new token.
		io.WriteString(w, `{"access_token":"`+token+`","token_type":"Bearer","expires_in":1}`)
	}))
	defer tokenSrv.Close()
	gcsCredentials(t, typ, tokenSrv.URL)
	f := newGCSFake(t, "b")
	f.auth = "Bearer " + token
	cfg := openConfig{gcsEndpoint: f.srv.URL}
	u := "gs://b/p"

	if _, err := open(context.Background(), u+"?anonymous=true", cfg); kind(err) != BadCredentials {
		t.Errorf("anonymous Open of a bucket that needs a token: %v, want kind BadCredentials", err)
	}
	octx, cancel := context.WithCancel(context.Background())
	s, err := open(octx, u, cfg)
	cancel()
	if err != nil {
		t.Fatalf("Open with a service account: %v", err)
	}
	defer s.Close()
	body := []byte("img")
	if err := s.Put(context.Background(), sum(body), bytes.NewReader(body)); err != nil {
		t.Fatalf("Put after Open's context ended (a token refresh): %v", err)
	}
	if tokens.Load() < 2 {
		t.Errorf("%d tokens fetched, want one per request", tokens.Load())
	}

	refuse.Store(true)
	_, err = open(context.Background(), u, cfg)
	if kind(err) != BadCredentials {
		t.Errorf("Open with a key the token endpoint refuses: %v, want kind BadCredentials", err)
	}
	err = s.Put(context.Background(), sum([]byte("other")), strings.NewReader("other"))
	if kind(err) != BadCredentials {
		t.Errorf("Put with a key the token endpoint refuses: %v, want kind BadCredentials", err)
	}
	if err != nil && (strings.Contains(err.Error(), token) || strings.Contains(err.Error(), "MARKER-refresh")) {
		t.Errorf("the error holds the token: %v", err)
	}
	var e *Error
	if errors.As(err, &e) && e.URL != u {
		t.Errorf("error names %q, want %q", e.URL, u)
	}
}

// TestGCSTokenRefreshIsBounded: a token endpoint that answers a refresh
// with headers and then stalls mid-body does not hold a store call (and
// every other call queued behind the token source's lock) for ever: the
// token request has its own deadline.
func TestGCSTokenRefreshIsBounded(t *testing.T) {
	const token = "ya29.MARKER-access-token-stall"
	var served atomic.Int32
	release := make(chan struct{})
	tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if served.Add(1) == 1 {
			io.WriteString(w, `{"access_token":"`+token+`","token_type":"Bearer","expires_in":1}`)
			return
		}
		io.WriteString(w, `{"access_token":"`)
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer tokenSrv.Close()
	defer close(release)
	gcsCredentials(t, "authorized_user", tokenSrv.URL)
	f := newGCSFake(t, "b")
	f.auth = "Bearer " + token
	s, err := open(context.Background(), "gs://b/p", openConfig{gcsEndpoint: f.srv.URL, tokenTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	done := make(chan error, 1)
	go func() { done <- s.Put(context.Background(), sum([]byte("img")), strings.NewReader("img")) }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Put succeeded though the token refresh stalled")
		}
		if strings.Contains(err.Error(), token) {
			t.Errorf("the error holds the token: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Put still blocked 30 s after a token refresh stalled (the token request has no deadline)")
	}
}

// TestGCSListEndlessTokens: a server that answers a list with the page
// token it was given, with a chain of tokens that never ends, or with
// tokens that come round again (A, B, A: pages that hold objects, so
// that no run of empty pages stops it), fails the listing, naming the
// server's URL, instead of keeping it going forever.
func TestGCSListEndlessTokens(t *testing.T) {
	ctx := context.Background()
	cycle := func(n int) func(string) string {
		return func(given string) string {
			i, _ := strconv.Atoi(strings.TrimPrefix(given, "t"))
			return "t" + strconv.Itoa((i+1)%n)
		}
	}
	for name, c := range map[string]struct {
		next  func(given string) string
		items bool
	}{
		"same token":         {func(string) string { return "again" }, false},
		"endless chain":      {func(given string) string { return given + "x" }, false},
		"alternating tokens": {cycle(2), true},
		"cycle of 3":         {cycle(3), true},
		"cycle of 300":       {cycle(300), true},
	} {
		t.Run(name, func(t *testing.T) {
			f := newGCSFake(t, "b")
			s := mustOpenWith(t, f.URL("p"), openConfig{gcsEndpoint: f.srv.URL})
			lists := 0
			f.setHook(func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/o") {
					return false
				}
				lists++
				items := []any{}
				if c.items {
					items = append(items, map[string]any{"name": "sha256/" + strconv.Itoa(lists), "size": "1"})
				}
				w.Header().Set("Content-Type", "application/json")
				json.NewEncoder(w).Encode(map[string]any{"kind": "storage#objects", "items": items, "nextPageToken": c.next(r.URL.Query().Get("pageToken"))})
				return true
			})
			it := s.bucket.List(&blob.ListOptions{Prefix: "sha256/"})
			var err error
			for range 5 * maxEmptyListPages {
				if _, err = it.Next(ctx); err != nil {
					break
				}
			}
			switch {
			case err == nil:
				t.Fatalf("the listing went on for %d requests", lists)
			case err == io.EOF:
				t.Fatalf("the listing ended as if complete after %d requests", lists)
			case !strings.Contains(err.Error(), f.srv.URL+"/storage/v1/b/b/o") || !strings.Contains(err.Error(), "check the server"):
				t.Errorf("error = %v, want the server's URL and what to do", err)
			}
			if lists > maxEmptyListPages+1 {
				t.Errorf("%d list requests", lists)
			}
		})
	}
}
