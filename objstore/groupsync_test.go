package objstore

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

// TestGroupSyncShares: callers waiting while a flush runs share the next
// one, and a flush's failure reaches every caller it was to serve, and
// every later one.
func TestGroupSyncShares(t *testing.T) {
	var flushes atomic.Int32
	release := make(chan error)
	started := make(chan struct{}, 100)
	g := newGroupSync("dir", func(string) error {
		flushes.Add(1)
		started <- struct{}{}
		return <-release
	})
	first := make(chan error)
	go func() { first <- g.wait() }()
	<-started // the first flush runs: the next callers need another
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	var arrived sync.WaitGroup
	arrived.Add(n)
	for range n {
		wg.Go(func() {
			arrived.Done()
			errs <- g.wait()
		})
	}
	arrived.Wait()
	release <- nil
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	// The waiters may not all be waiting yet; those that come after the
	// second flush starts need a third one.
	boom := errors.New("boom")
	for done := false; !done; {
		select {
		case <-started:
			release <- boom
		default:
			if len(errs) == n {
				done = true
			}
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, boom) {
			t.Errorf("wait = %v, want the flush's failure", err)
		}
	}
	if f := flushes.Load(); f > 3 {
		t.Errorf("%d flushes for %d waiters arriving during one", f, n)
	}
	if err := g.wait(); !errors.Is(err, boom) {
		t.Errorf("a wait after the failed flush: %v, want its failure", err)
	}
}

// TestFileStoreFlushOrder: a file:// store's object gets its name only
// after a flush that follows its bytes, and Sync flushes again after the
// name is made (and not when nothing was written since).
func TestFileStoreFlushOrder(t *testing.T) {
	if !batchDurable {
		t.Skip("no syncfs here: each upload syncs its own file")
	}
	ctx := context.Background()
	dir := t.TempDir()
	s := mustOpen(t, "file://"+dir)
	s.batch = true // whatever the test's file system
	body := []byte("some image bytes")
	obj := filepath.Join(dir, "sha256", sum(body)[:2], sum(body))
	var named []bool // at each flush: was the object named?
	s.durable.flush = func(string) error {
		_, err := os.Stat(obj)
		named = append(named, err == nil)
		return nil
	}
	if err := s.Put(ctx, sum(body), bytes.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	if len(named) != 1 || named[0] {
		t.Fatalf("flushes during Put (object named at each): %v, want one before the name", named)
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if len(named) != 2 || !named[1] {
		t.Fatalf("flushes after Sync: %v, want one after the name", named)
	}
	if err := s.Sync(ctx); err != nil || len(named) != 2 {
		t.Errorf("Sync with nothing new: %v, %d flushes in all, want 2", err, len(named))
	}
	// An object already there (maybe named by another process that has
	// not flushed yet): Sync flushes.
	if err := s.Put(ctx, sum(body), bytes.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(ctx); err != nil || len(named) != 4 {
		t.Errorf("after a Put of an existing object: %v, %d flushes in all, want 4", err, len(named))
	}
	var buf bytes.Buffer
	if err := s.Get(ctx, sum(body), &buf, 100); err != nil || buf.String() != string(body) {
		t.Errorf("Get = %q, %v", buf.String(), err)
	}
	// A flush that fails fails the write: nothing is named.
	s.durable.flush = func(string) error { return errors.New("disk gone") }
	other := []byte("other bytes")
	if err := s.Put(ctx, sum(other), bytes.NewReader(other)); err == nil {
		t.Error("Put succeeded though its flush failed")
	}
	if ok, _ := s.Has(ctx, sum(other)); ok {
		t.Error("the object was named though its flush failed")
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "sha256", sum(other)[:2])); len(entries) != 0 {
		t.Errorf("left in the object's directory: %v", entries)
	}
}

// TestFileStoreReads: a file:// store's objects are read from their
// files directly: a missing one is NotFound, a cut one Corrupt, a longer
// one TooLarge for a cap of its size, and a directory under an object's
// name is no object.
func TestFileStoreReads(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := mustOpen(t, "file://"+dir)
	body := []byte("the bytes of an image")
	if err := s.Put(ctx, sum(body), bytes.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := s.Get(ctx, sum(body), &buf, int64(len(body))); err != nil || buf.String() != string(body) {
		t.Fatalf("Get = %q, %v", buf.String(), err)
	}
	if err := s.Get(ctx, sum([]byte("absent")), &buf, 100); kind(err) != NotFound {
		t.Errorf("Get of a missing object: %v, want kind NotFound", err)
	}
	obj := filepath.Join(dir, filepath.FromSlash(ObjectKey(sum(body))))
	if err := os.WriteFile(obj, body[:5], 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Get(ctx, sum(body), &buf, 100); kind(err) != Corrupt {
		t.Errorf("Get of a cut object: %v, want kind Corrupt", err)
	}
	if err := os.WriteFile(obj, append(body, "and more"...), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Get(ctx, sum(body), &buf, int64(len(body))); kind(err) != TooLarge {
		t.Errorf("Get of a longer object: %v, want kind TooLarge", err)
	}
	odd := []byte("a directory stands where this object would")
	if err := os.MkdirAll(filepath.Join(dir, filepath.FromSlash(ObjectKey(sum(odd)))), 0o755); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Has(ctx, sum(odd)); ok || err != nil {
		t.Errorf("Has of a directory: %v, %v; want false", ok, err)
	}
	if err := s.Get(ctx, sum(odd), &buf, 100); err == nil {
		t.Error("Get of a directory succeeded")
	}
}

// TestGroupSyncStickyFailure: once a flush fails, the waiters who
// arrived while it ran (whose own flush, the next one, may succeed: the
// file system reported the write-back error to the failed one only) and
// every later wait fail too.
func TestGroupSyncStickyFailure(t *testing.T) {
	release := make(chan error)
	started := make(chan struct{}, 10)
	g := newGroupSync("dir", func(string) error {
		started <- struct{}{}
		return <-release
	})
	first := make(chan error, 1)
	go func() { first <- g.wait() }()
	<-started // flush k runs
	second := make(chan error, 1)
	go func() { second <- g.wait() }()
	// Wait until the second caller waits (for flush k+1).
	for {
		g.mu.Lock()
		n := g.waiters
		g.mu.Unlock()
		if n == 2 {
			break
		}
		runtime.Gosched()
	}
	release <- errors.New("EIO on write-back")
	if err := <-first; err == nil {
		t.Error("the caller of the failed flush got no error")
	}
	// Flush k+1, if it runs, succeeds: the error was reported to k only.
	go func() {
		for range started {
			release <- nil
		}
	}()
	if err := <-second; err == nil {
		t.Error("a waiter who arrived during the failed flush got no error")
	}
	for i := range 3 {
		if err := g.wait(); err == nil {
			t.Errorf("wait %d after the failed flush: no error", i)
		}
	}
}

// TestFileStoreNotBatchable: on a file system whose flushes are not
// shared (a network or FUSE one), each upload syncs its file and its
// directory itself, and shares no flush.
func TestFileStoreNotBatchable(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := mustOpen(t, "file://"+dir)
	s.batch = false
	var flushes int
	s.durable.flush = func(string) error { flushes++; return nil }
	var synced []string
	s.fsync = func(f *os.File) error {
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		synced = append(synced, fi.Mode().Type().String())
		return f.Sync()
	}
	body := []byte("bytes on a network file system")
	if err := s.Put(ctx, sum(body), bytes.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if flushes != 0 || len(synced) != 2 || synced[0] != "----------" || synced[1] != "d---------" {
		t.Errorf("%d shared flushes, synced %q; want none, and the file then its directory", flushes, synced)
	}
}

// TestFileStoreNotBatchableDirFlushFails: where each upload flushes its
// own directory, a failed flush is the upload's error (its name may not
// survive a crash), while a file system that flushes no directories
// (EINVAL) is no error.
func TestFileStoreNotBatchableDirFlushFails(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		err  error
		fail bool
	}{{syscall.EIO, true}, {syscall.EINVAL, false}} {
		s := mustOpen(t, "file://"+t.TempDir())
		s.batch = false
		s.fsync = func(f *os.File) error {
			if fi, err := f.Stat(); err == nil && fi.IsDir() {
				return tt.err
			}
			return f.Sync()
		}
		body := []byte("bytes on a network file system, " + tt.err.Error())
		err := s.Put(ctx, sum(body), bytes.NewReader(body))
		if (err != nil) != tt.fail {
			t.Errorf("directory flush failing with %v: Put = %v, want an error: %v", tt.err, err, tt.fail)
		}
	}
}

// TestFileStoreSyncCoversExisting: two Stores share a directory (two
// working copies on one host). A links an object and has not flushed
// yet; B's Put of the same object finds its name, and B's Sync flushes,
// since B's caller counts the object as stored after it; and Flush
// flushes for objects this Store only found.
func TestFileStoreSyncCoversExisting(t *testing.T) {
	if !batchDurable {
		t.Skip("no syncfs here: each upload syncs its own file")
	}
	ctx := context.Background()
	dir := t.TempDir()
	a := mustOpen(t, "file://"+dir)
	b := mustOpen(t, "file://"+dir)
	a.batch, b.batch = true, true
	var flushes int
	a.durable.flush = func(string) error { return nil }
	b.durable.flush = func(string) error { flushes++; return nil }
	body := []byte("bytes both copies render")
	if err := a.Put(ctx, sum(body), bytes.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	if err := b.Put(ctx, sum(body), bytes.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	before := flushes
	if err := b.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if flushes != before+1 {
		t.Errorf("B's Sync after a Put that found A's name: %d flushes, want 1", flushes-before)
	}
	before = flushes
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if flushes != before+1 {
		t.Errorf("Flush: %d flushes, want 1", flushes-before)
	}
}

// TestPutWithInputsOneFlush: in a file:// store whose writes share
// flushes, an object and its records are made durable by one flush
// before any is named, the object named before the records; bytes that
// are not the object's name leave neither the object nor a record; an
// object or a record already there is success; and on every store the
// result is the object and its records, as Put and PutInputs make them.
func TestPutWithInputsOneFlush(t *testing.T) {
	if !batchDurable {
		t.Skip("no syncfs here: each upload syncs its own file")
	}
	ctx := context.Background()
	dir := t.TempDir()
	s := mustOpen(t, "file://"+dir)
	s.batch = true // whatever the test's file system
	body := []byte("some image bytes")
	d1, d2 := sum([]byte("inputs 1")), sum([]byte("inputs 2"))
	rec := Record{SHA256: sum(body), Provider: "imagine", MediaType: "image/png", Bytes: int64(len(body)), Width: 1, Height: 1}
	obj := filepath.Join(dir, "sha256", sum(body)[:2], sum(body))
	type state struct{ obj, r1, r2 bool }
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }
	var flushes []state // what was named at each flush
	s.durable.flush = func(string) error {
		flushes = append(flushes, state{exists(obj), exists(filepath.Join(dir, "inputs", d1)), exists(filepath.Join(dir, "inputs", d2))})
		return nil
	}
	// Wrong bytes: nothing named, nothing flushed, nothing left.
	if err := s.PutWithInputs(ctx, sum(body), bytes.NewReader([]byte("other")), []string{d1, d2}, rec); kind(err) != Corrupt {
		t.Fatalf("PutWithInputs of wrong bytes = %v, want Corrupt", err)
	}
	if len(flushes) != 0 || exists(obj) || exists(filepath.Join(dir, "inputs", d1)) {
		t.Fatalf("wrong bytes: flushes %v, object named %v, record named %v", flushes, exists(obj), exists(filepath.Join(dir, "inputs", d1)))
	}
	if err := s.PutWithInputs(ctx, sum(body), bytes.NewReader(body), []string{d1, d2}, rec); err != nil {
		t.Fatal(err)
	}
	if len(flushes) != 1 || flushes[0] != (state{}) {
		t.Fatalf("flushes during PutWithInputs (what was named at each): %v, want one before any name", flushes)
	}
	for _, d := range []string{d1, d2} {
		if got, ok, err := s.GetInputs(ctx, d); err != nil || !ok || got != rec {
			t.Errorf("GetInputs(%s) = %+v, %v, %v", d, got, ok, err)
		}
	}
	var buf bytes.Buffer
	if err := s.Get(ctx, sum(body), &buf, 100); err != nil || buf.String() != string(body) {
		t.Errorf("Get = %q, %v", buf.String(), err)
	}
	if err := s.Sync(ctx); err != nil || len(flushes) != 2 || flushes[1] != (state{true, true, true}) {
		t.Errorf("Sync: %v, flushes %v, want a second one after every name", err, flushes)
	}
	// All there already: success.
	if err := s.PutWithInputs(ctx, sum(body), bytes.NewReader(body), []string{d1, d2}, rec); err != nil {
		t.Errorf("PutWithInputs of what the store holds: %v", err)
	}
	for _, dd := range []string{filepath.Join(dir, "inputs"), filepath.Dir(obj)} {
		entries, _ := os.ReadDir(dd)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".tmp") {
				t.Errorf("left in %s: %s", dd, e.Name())
			}
		}
	}
	// The same on a store that is not a directory.
	m := mustOpen(t, "mem://")
	if err := m.PutWithInputs(ctx, sum(body), bytes.NewReader(body), []string{d1}, rec); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := m.GetInputs(ctx, d1); err != nil || !ok || got != rec {
		t.Errorf("mem GetInputs = %+v, %v, %v", got, ok, err)
	}
	if ok, err := m.Has(ctx, sum(body)); !ok || err != nil {
		t.Errorf("mem Has = %v, %v", ok, err)
	}
}

// TestFileStoreLockSyncsItsOwnFile: in a file:// store whose writes share
// flushes of the file system, a lock object is made durable by a sync of
// its own file, before it is named, not by a flush of the whole file
// system (which costs as much as everything dirty on it, another
// process's writes included); and a lock whose sync fails is not named.
func TestFileStoreLockSyncsItsOwnFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := mustOpen(t, "file://"+dir)
	s.batch = true // whatever the test's file system
	lockFile := filepath.Join(dir, "locks", "site")
	flushes := 0
	s.durable.flush = func(string) error { flushes++; return nil }
	var named []bool // at each file sync: was the lock named?
	s.fsync = func(f *os.File) error {
		_, err := os.Stat(lockFile)
		named = append(named, err == nil)
		return nil
	}
	l, err := s.Lock(ctx, "site", LockInfo{Holder: "ann"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if flushes != 0 || len(named) != 1 || named[0] {
		t.Errorf("Lock: %d flushes of the file system, file syncs (lock named at each) %v; want none and one before the name", flushes, named)
	}
	if err := l.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	s.fsync = func(*os.File) error { return errors.New("disk gone") }
	if _, err := s.Lock(ctx, "site", LockInfo{Holder: "ann"}, 0); err == nil {
		t.Error("Lock succeeded though its sync failed")
	}
	if _, err := os.Stat(lockFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the lock was named though its sync failed: %v", err)
	}
}
