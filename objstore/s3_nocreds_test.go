package objstore

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

// unsetenv unsets each of keys for the test, restoring it after.
func unsetenv(t *testing.T, keys ...string) {
	for _, k := range keys {
		t.Setenv(k, "") // restored after the test
		os.Unsetenv(k)
	}
}

// closedPort is a local address where nothing listens.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// captureStderr runs f with os.Stderr going to a pipe, and returns what
// was written there.
func captureStderr(t *testing.T, f func()) string {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stderr
	os.Stderr = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	defer func() { os.Stderr = old }()
	f()
	os.Stderr = old
	w.Close()
	return <-done
}

// Session 16: an S3 store on a machine with no credentials (not on EC2:
// the metadata service answers 404, as a proxy or a container network
// does, or nothing answers) fails with pixform's error alone, which says
// which credentials it looked for; the SDK prints nothing of its own.
// Not in parallel: it swaps os.Stderr.
func TestS3NoCredentialsQuiet(t *testing.T) {
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.NotFound(w, r)
	}))
	defer imds.Close()
	for name, endpoint := range map[string]string{
		"metadata service answers 404":  imds.URL,
		"metadata service not answered": "http://" + closedPort(t),
	} {
		t.Run(name, func(t *testing.T) {
			unsetenv(t, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
				"AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_EC2_METADATA_DISABLED", "AWS_WEB_IDENTITY_TOKEN_FILE",
				"AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_REGION", "AWS_DEFAULT_REGION")
			t.Setenv("HOME", t.TempDir())
			t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", endpoint)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var err error
			out := captureStderr(t, func() {
				_, err = Open(ctx, "s3://bucket/p?region=us-east-1&use_path_style=true&endpoint=http://"+closedPort(t))
			})
			if kind(err) != NoCredentials {
				t.Fatalf("Open: %v (%v), want no credentials", err, kind(err))
			}
			if out != "" {
				t.Errorf("the SDK wrote to stderr: %q", out)
			}
			for _, want := range []string{"AWS_ACCESS_KEY_ID", "AWS_PROFILE", "instance role"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the error does not say it looked for %s: %v", want, err)
				}
			}
		})
	}
}
