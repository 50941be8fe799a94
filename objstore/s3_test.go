package objstore

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pixform/pixform/internal/s3test"
)

// TestS3Errors opens and uses a real S3 server in each failure a person
// meets: every error has the kind views words advice for, names the store
// without credentials, and never holds the secret.
func TestS3Errors(t *testing.T) {
	srv := startS3(t)
	secret := srv.Secret
	ctx := context.Background()
	var errs []error
	check := func(what string, err error, want Kind) {
		t.Helper()
		errs = append(errs, err)
		if kind(err) != want {
			t.Errorf("%s: %v (kind %v), want kind %v", what, err, kind(err), want)
			return
		}
		var e *Error
		errors.As(err, &e)
		if !strings.HasPrefix(e.URL, "s3://") || !strings.Contains(err.Error(), e.URL) {
			t.Errorf("%s: error %q does not name the store", what, err)
		}
	}

	s := mustOpen(t, srv.URL("p"))
	err := s.Get(ctx, sum([]byte("absent")), &bytes.Buffer{}, 10)
	check("Get of a missing object", err, NotFound)
	if !strings.Contains(err.Error(), ObjectKey(sum([]byte("absent")))) {
		t.Errorf("error %q does not name the object", err)
	}

	_, err = Open(ctx, strings.Replace(srv.URL("p"), "s3://pixform-test", "s3://no-such-bucket", 1))
	check("Open of a missing bucket", err, NoBucket)

	// Wrong credentials: the secret the server does not accept is the one
	// in the environment, and must not appear in the error.
	const marker = "MARKER-wrong-secret-7f3a9c"
	t.Setenv("AWS_SECRET_ACCESS_KEY", marker)
	_, err = Open(ctx, srv.URL("p"))
	check("Open with a wrong secret", err, BadCredentials)
	if err != nil && strings.Contains(err.Error(), marker) {
		t.Errorf("the error holds the secret: %v", err)
	}
	// The same through an already open store whose credentials are wrong.
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	setenv(t, []string{"AWS_ACCESS_KEY_ID=PXFUNKNOWNKEY"})
	_, err = Open(ctx, srv.URL("p"))
	if k := kind(err); k != BadCredentials && k != AccessDenied {
		t.Errorf("Open with an unknown access key: %v, want kind BadCredentials or AccessDenied", err)
	}
	errs = append(errs, err)
	setenv(t, srv.Env())

	setenv(t, []string{"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_PROFILE="})
	_, err = Open(ctx, srv.URL("p"))
	check("Open without credentials", err, NoCredentials)
	setenv(t, srv.Env())

	// A server that answers nothing (a network dropping packets): Open and
	// operations end with the context.
	if err := srv.Pause(); err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
	_, err = Open(tctx, srv.URL("p"))
	cancel()
	check("Open of a server that does not answer", err, Unreachable)
	tctx, cancel = context.WithTimeout(ctx, 1500*time.Millisecond)
	_, err = s.Has(tctx, sum([]byte("x")))
	cancel()
	check("Has on a server that does not answer", err, Unreachable)
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}

	// A server that is gone: connection refused, after the SDK's three
	// attempts (gocloud's retryer does not read AWS_MAX_ATTEMPTS).
	srv.Stop()
	_, err = Open(ctx, srv.URL("p"))
	check("Open of a stopped server", err, Unreachable)
	_, err = s.Has(ctx, sum([]byte("x")))
	check("Has on a stopped server", err, Unreachable)
	err = s.Put(ctx, sum([]byte("x")), strings.NewReader("x"))
	check("Put on a stopped server", err, Unreachable)
	_, err = s.Lock(ctx, "k", LockInfo{}, 0)
	check("Lock on a stopped server", err, Unreachable)

	for _, err := range errs {
		if err != nil && (strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), marker)) {
			t.Errorf("an error holds a secret: %v", err)
		}
	}
}

// TestS3DeleteIfMatch checks that the lock's delete is conditional on the
// version read: a lock object replaced after it was read is not removed.
func TestS3DeleteIfMatch(t *testing.T) {
	srv := startS3(t)
	ctx := context.Background()
	s := mustOpen(t, srv.URL("p"))
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

// TestS3Prefix checks the translation of the URL's path into the prefix:
// objects land under it in the bucket.
func TestS3Prefix(t *testing.T) {
	srv := startS3(t)
	ctx := context.Background()
	s := mustOpen(t, srv.URL("team/site"))
	body := []byte("prefixed")
	if err := s.Put(ctx, sum(body), bytes.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	root := mustOpen(t, srv.URL(""))
	if ok, err := root.bucket.Exists(ctx, "team/site/"+ObjectKey(sum(body))); err != nil || !ok {
		t.Errorf("the object is not under the prefix: %v, %v", ok, err)
	}
}

// TestS3RefusesRedirects: a server that redirects never gets pixform's
// signed requests sent elsewhere.
func TestS3RefusesRedirects(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
	}))
	defer other.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()
	setenv(t, []string{"AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=redirect-secret-value",
		"AWS_CONFIG_FILE=" + os.DevNull, "AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull, "AWS_EC2_METADATA_DISABLED=true"})
	_, err := Open(context.Background(), "s3://b?endpoint="+redirector.URL+"&use_path_style=true&region=us-east-1")
	if err == nil {
		t.Fatal("Open through a redirecting server succeeded")
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("%d requests followed the redirect", n)
	}
	if strings.Contains(err.Error(), "redirect-secret-value") {
		t.Errorf("the error holds the secret: %v", err)
	}
}

// TestS3Anonymous: anonymous=true opens without credentials (a public
// bucket); the server then decides what the anonymous user may do.
func TestS3Anonymous(t *testing.T) {
	srv := startS3(t)
	setenv(t, s3test.NoCredentialsEnv())
	_, err := Open(context.Background(), srv.URL("p")+"&anonymous=true")
	if kind(err) == NoCredentials {
		t.Errorf("Open with anonymous=true: %v; no credentials are needed", err)
	}
}
