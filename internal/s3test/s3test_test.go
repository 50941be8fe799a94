package s3test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFind(t *testing.T) {
	empty := t.TempDir()
	t.Setenv("PATH", empty)
	t.Setenv("GOBIN", "")
	t.Setenv("GOPATH", empty)
	bin, msg, fail := Find(false)
	if bin != "" || fail || !strings.Contains(msg, Install) {
		t.Errorf("Find without a binary outside CI = %q, %q, %v; want a skip message with the install command", bin, msg, fail)
	}
	if _, msg, fail := Find(true); !fail || !strings.Contains(msg, "CI=true") {
		t.Errorf("Find without a binary in CI = %q, %v; want fail", msg, fail)
	}
	gobin := t.TempDir()
	p := filepath.Join(gobin, "versitygw")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOBIN", gobin)
	if bin, _, _ := Find(true); bin != p {
		t.Errorf("Find with $GOBIN/versitygw = %q, want %q", bin, p)
	}
}

func TestStartStop(t *testing.T) {
	s := Start(t, t.TempDir())
	if _, err := os.Stat(filepath.Join(s.Dir, Bucket)); err != nil {
		t.Fatalf("the bucket directory: %v", err)
	}
	s.Stop()
	s.Stop()
	if _, err := os.Stat(s.Dir); !os.IsNotExist(err) {
		t.Errorf("Stop left %s: %v", s.Dir, err)
	}
}
