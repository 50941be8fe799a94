package objstore

import (
	"os"
	"strings"
	"testing"

	"github.com/pixform/pixform/internal/s3test"
)

// extraBackends are the backends that need a server: S3 through a real
// VersityGW, GCS through fake-gcs-server and Azure Blob through Azurite,
// one per test, skipped outside
// CI when the emulator is missing; and GCS through gcsFake, an httptest
// server that honours every precondition the driver sends.
func extraBackends() map[string]backend {
	return map[string]backend{
		"gcs": {shared: true, open: func(t *testing.T) (*Store, func(*testing.T) *Store) {
			cfg := openConfig{gcsEndpoint: startFakeGCS(t)}
			u := "gs://" + gcsEmulatorBucket + "/team/site?anonymous=true"
			return mustOpenWith(t, u, cfg), func(t *testing.T) *Store { return mustOpenWith(t, u, cfg) }
		}},
		"azblob": {shared: true, open: func(t *testing.T) (*Store, func(*testing.T) *Store) {
			_, c := sharedAzurite(t)
			u := "azblob://" + c + "/team/site"
			return mustOpen(t, u), func(t *testing.T) *Store { return mustOpen(t, u) }
		}},
		"gcs-fake": {shared: true, open: func(t *testing.T) (*Store, func(*testing.T) *Store) {
			f := newGCSFake(t, "pixform-test")
			cfg := openConfig{gcsEndpoint: f.srv.URL}
			u := f.URL("team/site")
			return mustOpenWith(t, u, cfg), func(t *testing.T) *Store { return mustOpenWith(t, u, cfg) }
		}},
		"s3": {shared: true, open: func(t *testing.T) (*Store, func(*testing.T) *Store) {
			srv := startS3(t)
			u := srv.URL("team/site")
			return mustOpen(t, u), func(t *testing.T) *Store { return mustOpen(t, u) }
		}},
	}
}

// startS3 starts a VersityGW for t and puts its credentials in the
// environment (t.Setenv: the test must not be parallel).
func startS3(t *testing.T) *s3test.Server {
	t.Helper()
	srv := s3test.Start(t, t.TempDir())
	t.Cleanup(srv.Stop)
	setenv(t, srv.Env())
	return srv
}

// TestMain stops the emulators the tests share.
func TestMain(m *testing.M) {
	code := m.Run()
	stopShared()
	os.Exit(code)
}

func setenv(t *testing.T, env []string) {
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}
