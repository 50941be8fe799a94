package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// scriptedS3 is an S3 fake that answers each PUT of the lock object from script
// (409 ExistingObjectIsDirectory, 412 held, 200 taken) and a GET with the
// holder's lock.
type scriptedS3 struct {
	mu     sync.Mutex
	script []int // status per PUT of locks/*; past its end: the last
	puts   int
	log    []string
}

func (f *scriptedS3) serve(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	if !strings.Contains(r.URL.Path, "/locks/") {
		w.WriteHeader(200)
		return
	}
	switch r.Method {
	case http.MethodPut:
		st := f.script[min(f.puts, len(f.script)-1)]
		f.puts++
		f.log = append(f.log, fmt.Sprintf("PUT %s if-none-match=%q -> %d", r.URL.Path, r.Header.Get("If-None-Match"), st))
		switch st {
		case 409:
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(409)
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>ExistingObjectIsDirectory</Code><Message>Existing Object is a directory.</Message></Error>`)
		case 412:
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(412)
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>`)
		case 4091:
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(409)
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>ConditionalRequestConflict</Code><Message>A conflicting operation occurred. If using PutObject you can retry the request.</Message></Error>`)
		default:
			w.WriteHeader(200)
		}
	case http.MethodGet:
		f.log = append(f.log, "GET "+r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ID":"11111111-2222-4333-8444-555555555555","Operation":"apply","Who":"someone@else","Version":"x","Created":"2026-11-30T00:00:00Z","Path":"","Info":"","Holder":"other"}`)
	default:
		w.WriteHeader(200)
	}
}

func openScriptedS3(t *testing.T, f *scriptedS3) *Store {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	setenv(t, []string{"AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=secret",
		"AWS_CONFIG_FILE=" + os.DevNull, "AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull, "AWS_EC2_METADATA_DISABLED=true"})
	s, err := Open(context.Background(), "s3://b?endpoint="+srv.URL+"&use_path_style=true&region=us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A key that is a folder for good: Lock gives up after 1+5 creates.
func TestLockFolderForGoodIsBounded(t *testing.T) {
	f := &scriptedS3{script: []int{409}}
	s := openScriptedS3(t, f)
	_, err := s.Lock(context.Background(), "k", LockInfo{Holder: "me"}, 0)
	t.Logf("err: %v", err)
	t.Logf("%d PUTs: %v", f.puts, f.log)
	if err == nil || f.puts != 6 {
		t.Errorf("err %v after %d PUTs, want an error after 6", err, f.puts)
	}
}

// 409 then 412 (someone holds it): the retry is a conditional create, so
// the lock is not taken: LockedError naming the holder.
func TestLockRaceThenHeldIsNotTaken(t *testing.T) {
	f := &scriptedS3{script: []int{409, 412}}
	s := openScriptedS3(t, f)
	_, err := s.Lock(context.Background(), "k", LockInfo{Holder: "me"}, 0)
	var le *LockedError
	t.Logf("err: %v; log %v", err, f.log)
	if !errors.As(err, &le) {
		t.Errorf("err %v, want a LockedError", err)
	}
}

// While waiting for a holder, each release may race a create: the bound
// counts races in a row, so six races in a long wait, each followed by
// the holder's answer, do not fail the Lock.
func TestLockRaceBoundIsInARow(t *testing.T) {
	f := &scriptedS3{script: []int{409, 412, 409, 412, 409, 412, 409, 412, 409, 412, 409, 200}}
	s := openScriptedS3(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := s.Lock(ctx, "k", LockInfo{Holder: "me"}, 20*time.Second)
	t.Logf("log %v", f.log)
	if err != nil {
		t.Errorf("Lock: %v, want the lock (no six races in a row)", err)
	} else {
		l.Unlock(context.Background())
	}
}

// Real S3 answers a conditional create (If-None-Match: *) that raced a
// concurrent DELETE of the key (the holder's release) or another
// conditional create with 409 ConditionalRequestConflict, "retry the
// upload" per AWS: the same race as VersityGW's, which Lock tries again.
func TestLockRetriesS3ConditionalRequestConflict(t *testing.T) {
	f := &scriptedS3{script: []int{4091, 200}}
	s := openScriptedS3(t, f)
	_, err := s.Lock(context.Background(), "k", LockInfo{Holder: "me"}, 0)
	t.Logf("log %v", f.log)
	if err != nil {
		t.Errorf("Lock: %v, want the lock (a 409 ConditionalRequestConflict is a race to try again)", err)
	}
}
