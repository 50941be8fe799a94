package objstore

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
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

	// A stopped server: connection refused, after the SDK's retries
	// (about 4+8+16 s: Azure's default policy for storage).
	az.emu.stop()
	err = s.Put(ctx, sum([]byte("x")), strings.NewReader("x"))
	check("Put on a stopped server", err, Unreachable)
}
