package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestRunFlags(t *testing.T) {
	tests := map[string]struct {
		args    []string
		wantErr string
	}{
		"bad retry-after mode": {args: []string{"-retry-after=later"}, wantErr: "unknown Retry-After mode"},
		"stray argument":       {args: []string{"extra"}, wantErr: "unexpected arguments"},
		"unknown flag":         {args: []string{"-nope"}, wantErr: "not defined"},
		"bad address":          {args: []string{"-addr=256.0.0.1:x"}, wantErr: "listen on"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := run(context.Background(), tc.args, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("run(%q) = %v, want an error containing %q", tc.args, err, tc.wantErr)
			}
		})
	}
}

func TestRunServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-token=t", "-rate=100", "-retry-after=date"}, pw, io.Discard)
		pw.Close()
	}()
	url, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	url = strings.TrimSpace(url)
	if !strings.HasPrefix(url, "http://127.0.0.1:") || !strings.HasSuffix(url, "/v2/image/generations") {
		t.Errorf("printed %q, want the endpoint URL", url)
	}
	resp, err := http.Post(url, "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unauthenticated POST: %d, want 400", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run = %v after cancel, want nil", err)
	}
}
