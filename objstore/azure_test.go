package objstore

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestAzureDeleteIfMatch: the lock's delete is conditional on the ETag
// read (If-Match), so a lock object replaced after it was read is not
// removed. Against Azurite.
func TestAzureDeleteIfMatch(t *testing.T) {
	_, c := sharedAzurite(t)
	ctx := context.Background()
	s := mustOpen(t, "azblob://"+c+"/p")
	key := LockKey("k")
	if err := s.bucket.WriteAll(ctx, key, []byte(`{"id":"one"}`), nil); err != nil {
		t.Fatal(err)
	}
	_, ver, err := s.readLock(ctx, key)
	if err != nil || ver.etag == "" {
		t.Fatalf("readLock: etag %q, %v", ver.etag, err)
	}
	if err := s.bucket.WriteAll(ctx, key, []byte(`{"id":"two, written after the read"}`), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.deleteIfMatch(ctx, key, ver); kind(err) != LockLost {
		t.Errorf("delete with a stale ETag: %v, want kind LockLost", err)
	}
	if ok, err := s.bucket.Exists(ctx, key); err != nil || !ok {
		t.Fatalf("the replaced lock object was removed (%v)", err)
	}
	_, ver, _ = s.readLock(ctx, key)
	if err := s.deleteIfMatch(ctx, key, ver); err != nil {
		t.Errorf("delete with the current ETag: %v", err)
	}
}

// TestAzureErrors opens and uses Azurite in each failure a person meets:
// every error has the kind views words advice for, names the store, and
// never holds the account key.
func TestAzureErrors(t *testing.T) {
	az, c := startAzurite(t)
	connStr := az.connStr()
	ctx := context.Background()
	check := func(what string, err error, want ...Kind) {
		t.Helper()
		ok := false
		for _, k := range want {
			ok = ok || kind(err) == k
		}
		if !ok {
			t.Errorf("%s: %v (kind %v), want kind %v", what, err, kind(err), want)
			return
		}
		var e *Error
		errors.As(err, &e)
		if !strings.HasPrefix(e.URL, "azblob://") || !strings.Contains(err.Error(), e.URL) {
			t.Errorf("%s: error %q does not name the store", what, err)
		}
		if strings.Contains(err.Error(), azuriteKey) {
			t.Errorf("%s: the error holds the account key: %v", what, err)
		}
	}
	u := "azblob://" + c + "/p"
	s := mustOpen(t, u)
	err := s.Get(ctx, sum([]byte("absent")), &bytes.Buffer{}, 10)
	check("Get of a missing object", err, NotFound)

	_, err = Open(ctx, "azblob://no-such-container/p")
	check("Open of a missing container", err, NoBucket)

	// A key the server does not accept, in the environment: it must not
	// appear in the error.
	wrong := base64.StdEncoding.EncodeToString([]byte("MARKER-wrong-azure-key-0123456789abcdef"))
	t.Setenv("AZURE_STORAGE_CONNECTION_STRING", strings.Replace(connStr, azuriteKey, wrong, 1))
	_, err = Open(ctx, u)
	check("Open with a wrong key", err, BadCredentials)
	if err != nil && strings.Contains(err.Error(), wrong) {
		t.Errorf("the error holds the wrong key: %v", err)
	}
	t.Setenv("AZURE_STORAGE_CONNECTION_STRING", connStr)

	// A stopped server: connection refused, after the two retries of
	// azureRetry (about a second; the SDK's default took half a minute).
	az.emu.stop()
	start := time.Now()
	err = s.Put(ctx, sum([]byte("x")), strings.NewReader("x"))
	check("Put on a stopped server", err, Unreachable)
	t.Logf("a Put on the stopped server failed after %v", time.Since(start).Round(time.Millisecond))
}

// TestAzureRetries: through a proxy in front of Azurite, a request that
// fails once (503) is retried and succeeds, and a store that keeps
// failing is tried three times in all, then fails as unreachable.
func TestAzureRetries(t *testing.T) {
	az, c := sharedAzurite(t)
	target, err := url.Parse(az.endpoint)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	var fail, tries atomic.Int32 // requests to fail with 503; requests seen
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tries.Add(1)
		if fail.Add(-1) >= 0 {
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	defer proxy.Close()
	t.Setenv("AZURE_STORAGE_CONNECTION_STRING", strings.Replace(az.connStr(), az.endpoint, proxy.URL, 1))
	ctx := context.Background()
	s := mustOpen(t, "azblob://"+c+"/p")

	body := []byte("one transient failure")
	fail.Store(1)
	tries.Store(0)
	if err := s.Put(ctx, sum(body), bytes.NewReader(body)); err != nil {
		t.Fatalf("Put through one 503: %v", err)
	}
	if n := tries.Load(); n != 2 {
		t.Errorf("Put through one 503: %d requests, want 2", n)
	}

	fail.Store(1000)
	tries.Store(0)
	start := time.Now()
	body = []byte("a store that stays down")
	err = s.Put(ctx, sum(body), bytes.NewReader(body))
	if kind(err) != Unreachable {
		t.Errorf("Put on a store that answers 503: %v (kind %v), want kind Unreachable", err, kind(err))
	}
	if n, want := tries.Load(), azureRetry().MaxRetries+1; n != want {
		t.Errorf("Put on a store that answers 503: %d requests, want %d", n, want)
	}
	t.Logf("a Put on a store answering 503 failed after %v", time.Since(start).Round(time.Millisecond))
}
