// Package s3test runs a real S3 server for tests: VersityGW
// (github.com/versity/versitygw, Apache-2.0) over a temp directory, on a
// free port of 127.0.0.1, with a bucket made for the caller. Go tests use
// Start; testscript scripts use the `s3server` command (Cmd). It is
// imported by tests and by the bench harness.
//
// Without a versitygw binary (on PATH, in $GOBIN or in $GOPATH/bin) tests
// skip, saying how to install it, except in CI (CI=true), where .ci/run
// installs it and a missing binary fails the test.
package s3test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Version is the VersityGW release the tests are written against.
const Version = "v1.8.0"

// Install is the command that installs it.
const Install = "go install github.com/versity/versitygw/cmd/versitygw@" + Version

// Bucket is the bucket every server is started with.
const Bucket = "pixform-test"

// Server is a running VersityGW.
type Server struct {
	// Endpoint is the server's base URL: http://127.0.0.1:PORT.
	Endpoint string
	// Access and Secret are the root credentials the server accepts.
	Access, Secret string
	// Dir is the posix backend's root; Dir/Bucket is the bucket.
	Dir string

	cmd  *exec.Cmd
	log  *bytes.Buffer
	done chan struct{}
	once sync.Once
}

// URL is the store URL of the bucket under prefix ("" for none), as
// pixform takes it: s3://pixform-test/PREFIX?endpoint=…&use_path_style=true&disable_https=true&region=us-east-1.
func (s *Server) URL(prefix string) string {
	p := ""
	if prefix != "" {
		p = "/" + strings.Trim(prefix, "/")
	}
	return "s3://" + Bucket + p + "?endpoint=" + s.Endpoint + "&use_path_style=true&disable_https=true&region=us-east-1"
}

// Env is the environment a client needs, as KEY=VALUE: the credentials in
// the AWS SDK's standard variables, and the shared config files and the
// EC2 metadata lookup switched off so that nothing from the developer's
// machine is used.
func (s *Server) Env() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + s.Access,
		"AWS_SECRET_ACCESS_KEY=" + s.Secret,
		"AWS_REGION=us-east-1",
		"AWS_CONFIG_FILE=" + os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// NoCredentialsEnv is Env without credentials: what a machine with none
// configured has.
func NoCredentialsEnv() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_SESSION_TOKEN=", "AWS_PROFILE=",
		"AWS_REGION=us-east-1", "AWS_CONFIG_FILE=" + os.DevNull, "AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
		"AWS_EC2_METADATA_DISABLED=true", "AWS_WEB_IDENTITY_TOKEN_FILE=", "AWS_CONTAINER_CREDENTIALS_FULL_URI=",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=",
	}
}

// Find returns the versitygw binary, or a message that says why there is
// none and how to install it; fail is true in CI (ci), where it must run.
func Find(ci bool) (bin, msg string, fail bool) {
	if p, ok := FindTool("versitygw"); ok {
		return p, "", false
	}
	msg = "versitygw (a local S3 server) was not found on PATH, in $GOBIN or in $GOPATH/bin, so the tests against a real S3 server did not run; install it to run them: " + Install
	if ci {
		return "", msg + "; CI=true, where these tests must run (.ci/run installs it)", true
	}
	return "", msg, false
}

// FindTool returns the path of the executable name on PATH, in $GOBIN,
// in each $GOPATH/bin (or ~/go/bin, where go install puts it) or in the
// extra directories.
func FindTool(name string, extra ...string) (string, bool) {
	if p, err := exec.LookPath(name); err == nil {
		return p, true
	}
	dirs := append([]string{}, extra...)
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		dirs = append(dirs, gobin)
	}
	if gopath := os.Getenv("GOPATH"); gopath != "" {
		for _, p := range filepath.SplitList(gopath) {
			dirs = append(dirs, filepath.Join(p, "bin"))
		}
	} else if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, true
		}
	}
	return "", false
}

// TB is the part of testing.TB and testscript.TestScript that Start uses.
type TB interface {
	Fatalf(format string, args ...any)
	Skip(args ...any)
	Logf(format string, args ...any)
}

// Start starts a VersityGW over a fresh directory under tmp ("" for the
// system's temp directory) with the bucket Bucket in it, and waits until
// it answers. Without a binary it skips t (fails it in CI). The caller
// stops it with Stop, which also removes the directory.
func Start(t TB, tmp string) *Server {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	bin, msg, fail := Find(os.Getenv("CI") == "true")
	if bin == "" {
		if fail {
			t.Fatalf("%s", msg)
		}
		t.Skip(msg)
		return nil
	}
	var lastErr error
	for range 3 { // a free port can be taken between finding it and binding it
		s, err := start(bin, tmp)
		if err == nil {
			return s
		}
		lastErr = err
	}
	t.Fatalf("start versitygw: %v", lastErr)
	return nil
}

func start(bin, tmp string) (*Server, error) {
	dir, err := os.MkdirTemp(tmp, "versitygw-")
	if err != nil {
		return nil, err
	}
	// The posix backend takes every directory under its root for a bucket.
	if err := os.Mkdir(filepath.Join(dir, Bucket), 0o755); err != nil {
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	s := &Server{
		Endpoint: "http://127.0.0.1:" + port,
		Access:   "PXFTESTACCESS" + randHex(4),
		Secret:   "pxf-test-secret-" + randHex(12),
		Dir:      dir,
		log:      &bytes.Buffer{},
		done:     make(chan struct{}),
	}
	s.cmd = exec.Command(bin, "--port", "127.0.0.1:"+port, "--quiet", "posix", dir)
	// The credentials go through the environment, not argv, so that ps
	// does not show them.
	s.cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY_ID="+s.Access, "ROOT_SECRET_ACCESS_KEY="+s.Secret)
	s.cmd.Stdout = &lockedWriter{w: s.log}
	s.cmd.Stderr = s.cmd.Stdout
	setDeathSignal(s.cmd)
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	if err := s.waitReady(30 * time.Second); err != nil {
		s.Stop()
		return nil, fmt.Errorf("%w; its output:\n%s", err, s.Output())
	}
	return s, nil
}

// waitReady polls the server until it answers HTTP, it exits, or timeout.
func (s *Server) waitReady(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.Endpoint+"/", nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			// Any answer will do, but versitygw's: another server may
			// have taken the port between choosing it and versitygw
			// binding it.
			if sv := resp.Header.Get("Server"); sv == "VERSITYGW" {
				return nil
			}
		}
		select {
		case <-s.done:
			return errors.New("versitygw exited before it answered")
		case <-ctx.Done():
			return fmt.Errorf("versitygw did not answer on %s within %v", s.Endpoint, timeout)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop kills the server and waits for it to exit. It may be called more
// than once.
func (s *Server) Stop() {
	s.once.Do(func() {
		s.cmd.Process.Kill()
		<-s.done
		os.RemoveAll(s.Dir)
	})
}

// Pause stops the server answering without ending it (SIGSTOP), as a
// network that drops packets would; Resume lets it continue.
func (s *Server) Pause() error  { return signalStop(s.cmd, true) }
func (s *Server) Resume() error { return signalStop(s.cmd, false) }

// Output is what the server printed.
func (s *Server) Output() string {
	w := s.cmd.Stdout.(*lockedWriter)
	w.mu.Lock()
	defer w.mu.Unlock()
	return s.log.String()
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// FreePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func FreePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	_, port, err := net.SplitHostPort(l.Addr().String())
	return port, err
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}

// StartServer starts the versitygw binary bin over a new directory in tmp,
// as Start does, for callers that are not tests (the bench harness).
func StartServer(bin, tmp string) (*Server, error) { return start(bin, tmp) }
