package objstore

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/pixform/pixform/internal/s3test"
)

// The emulators the cloud drivers are tested against, and how .ci/emulators
// installs each. Outside CI a missing emulator skips its tests, saying so;
// in CI (CI=true) it fails them.
const (
	fakeGCSInstall = "go install github.com/fsouza/fake-gcs-server@v1.56.1"
	azuriteInstall = "npm install -g azurite@3.37.0"
)

// findTool returns the path of the executable name (s3test.FindTool), or
// skips t (fails it in CI) saying how to install it.
func findTool(t *testing.T, name, install string, extra ...string) string {
	t.Helper()
	if p, ok := s3test.FindTool(name, extra...); ok {
		return p
	}
	msg := fmt.Sprintf("%s (an emulator) was not found on PATH, in $GOBIN or in $GOPATH/bin, so the tests against it did not run; install it to run them: %s", name, install)
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s; CI=true, where these tests must run (.ci/emulators installs it)", msg)
	}
	t.Skip(msg)
	return ""
}

// emulator is a running emulator process.
type emulator struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	once sync.Once
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startEmulator runs bin with args (port fills the "PORT" argument) and
// waits until ready(endpoint) succeeds. It retries on another port when the
// first is taken between choosing and binding it. The caller stops it.
func startEmulator(t *testing.T, ready func(ctx context.Context, endpoint string) error, bin string, args ...string) (*emulator, string) {
	t.Helper()
	var lastErr error
	for range 3 {
		port, err := s3test.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		a := make([]string, len(args))
		for i, s := range args {
			a[i] = strings.ReplaceAll(s, "PORT", port)
		}
		e := &emulator{cmd: exec.Command(bin, a...), out: &syncBuffer{}, done: make(chan struct{})}
		e.cmd.Stdout, e.cmd.Stderr = e.out, e.out
		setDeathSignal(e.cmd)
		if err := e.cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", bin, err)
		}
		go func() { e.cmd.Wait(); close(e.done) }()
		endpoint := "http://127.0.0.1:" + port
		if err := e.wait(ready, endpoint, 60*time.Second); err != nil {
			e.stop()
			lastErr = fmt.Errorf("%w; its output:\n%s", err, e.out.String())
			continue
		}
		return e, endpoint
	}
	t.Fatalf("start %s: %v", filepath.Base(bin), lastErr)
	return nil, ""
}

func (e *emulator) wait(ready func(ctx context.Context, endpoint string) error, endpoint string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		rctx, rcancel := context.WithTimeout(ctx, 2*time.Second)
		err := ready(rctx, endpoint)
		rcancel()
		if err == nil {
			return nil
		}
		select {
		case <-e.done:
			return errors.New("the emulator exited before it answered")
		case <-ctx.Done():
			return fmt.Errorf("the emulator did not answer on %s within %v: %v", endpoint, timeout, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (e *emulator) stop() {
	e.once.Do(func() {
		e.cmd.Process.Kill()
		<-e.done
	})
}

// gcsEmulatorBucket is the bucket startFakeGCS creates.
const gcsEmulatorBucket = "pixform-test"

// startFakeGCS runs fake-gcs-server (memory backend) with the bucket
// gcsEmulatorBucket and returns its endpoint.
func startFakeGCS(t *testing.T) string {
	t.Helper()
	bin := findTool(t, "fake-gcs-server", fakeGCSInstall)
	e, endpoint := startEmulator(t, func(ctx context.Context, endpoint string) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/_internal/healthcheck", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("healthcheck: %s", resp.Status)
		}
		return nil
	}, bin, "-scheme", "http", "-host", "127.0.0.1", "-port", "PORT", "-backend", "memory", "-log-level", "error")
	t.Cleanup(e.stop)
	resp, err := http.Post(endpoint+"/storage/v1/b?project=test", "application/json", strings.NewReader(`{"name":"`+gcsEmulatorBucket+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create bucket: %s", resp.Status)
	}
	return endpoint
}

// mustOpenWith is mustOpen through open with cfg.
func mustOpenWith(t *testing.T, u string, cfg openConfig) *Store {
	t.Helper()
	s, err := open(context.Background(), u, cfg)
	if err != nil {
		t.Fatalf("Open(%s): %v", u, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// azuriteAccount and azuriteKey are Azurite's well-known development
// account, published in its documentation (and in its code).
const (
	azuriteAccount = "devstoreaccount1"
	azuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// azurite is a running Azurite blob service.
type azurite struct {
	emu      *emulator
	endpoint string
}

// connStr is the connection string of the development account on a.
func (a *azurite) connStr() string {
	return "DefaultEndpointsProtocol=http;AccountName=" + azuriteAccount + ";AccountKey=" + azuriteKey +
		";BlobEndpoint=" + a.endpoint + "/" + azuriteAccount + ";"
}

// runAzurite runs Azurite's blob service over a temp directory, with
// telemetry off; the caller stops it.
func runAzurite(t *testing.T, dir string) *azurite {
	t.Helper()
	bin := findTool(t, "azurite-blob", azuriteInstall)
	e, endpoint := startEmulator(t, func(ctx context.Context, endpoint string) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/"+azuriteAccount+"?comp=list", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		// Any answer will do, but Azurite's: another server may have
		// taken the port between choosing it and Azurite binding it.
		if sv := resp.Header.Get("Server"); !strings.HasPrefix(sv, "Azurite-Blob/") {
			return fmt.Errorf("%s is answered by another server (Server: %q)", endpoint, sv)
		}
		return nil
	}, bin, "--blobHost", "127.0.0.1", "--blobPort", "PORT", "--location", dir,
		"--silent", "--disableTelemetry", "--skipApiVersionCheck")
	return &azurite{emu: e, endpoint: endpoint}
}

// startAzurite runs an Azurite for t alone (stopped when t ends) and
// prepares it as use does.
func startAzurite(t *testing.T) (a *azurite, container string) {
	t.Helper()
	a = runAzurite(t, t.TempDir())
	t.Cleanup(a.emu.stop)
	return a, a.use(t)
}

// shared is the Azurite the behaviour tests share: Node takes seconds to
// start one. TestMain stops it.
var shared struct {
	mu  sync.Mutex
	az  *azurite
	dir string
}

// sharedAzurite starts the shared Azurite on first use and prepares it as
// use does.
func sharedAzurite(t *testing.T) (a *azurite, container string) {
	t.Helper()
	a = startShared(t)
	return a, a.use(t)
}

// startShared starts the shared Azurite once. The lock is let go however
// this ends: runAzurite skips the test (runtime.Goexit) where Azurite is
// not installed, and the next test that wants it waited for the lock
// forever, until go test's timeout.
func startShared(t *testing.T) *azurite {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.az == nil {
		dir, err := os.MkdirTemp("", "pixform-azurite-")
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if shared.az == nil {
				os.RemoveAll(dir)
			}
		}()
		shared.az = runAzurite(t, dir)
		shared.dir = dir
	}
	return shared.az
}

func stopShared() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.az != nil {
		shared.az.emu.stop()
		os.RemoveAll(shared.dir)
	}
}

// use puts a's connection string in the environment (t.Setenv: the test
// must not be parallel), with every other Azure storage variable empty,
// and creates a new container for t, whose name it returns.
func (a *azurite) use(t *testing.T) string {
	t.Helper()
	for _, k := range []string{"AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN", "AZURE_STORAGEBLOB_CONNECTIONSTRING",
		"AZURE_STORAGE_DOMAIN", "AZURE_STORAGE_PROTOCOL", "AZURE_STORAGE_IS_CDN", "AZURE_STORAGE_IS_LOCAL_EMULATOR"} {
		t.Setenv(k, "")
	}
	t.Setenv("AZURE_STORAGE_CONNECTION_STRING", a.connStr())
	var b [6]byte
	crand.Read(b[:])
	name := "pixform-" + hex.EncodeToString(b[:])
	c, err := container.NewClientFromConnectionString(a.connStr(), name, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(context.Background(), nil); err != nil {
		t.Fatalf("create container: %v", err)
	}
	return name
}
