package storesync

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

// heapRemote keeps no bytes (so the heap measures only the Store's
// own holding); its first Put waits for open.
type heapRemote struct {
	*fakeRemote
	started, open chan struct{}
	once          sync.Once
}

func (r *heapRemote) Put(ctx context.Context, sum string, rd io.Reader) error {
	r.once.Do(func() { close(r.started); <-r.open })
	h := sha256.New()
	if _, err := io.Copy(h, rd); err != nil {
		return err
	}
	if hex.EncodeToString(h.Sum(nil)) != sum {
		return fmt.Errorf("corrupt")
	}
	r.mu.Lock()
	r.objects[sum] = nil
	r.mu.Unlock()
	return nil
}

// TestHeldBytesAreFreedOnceSent: bytes held for an upload are given back
// to heldBudget once sent, so they must be garbage too: a popped job left
// in the queue's backing array would keep them, and memory would grow
// past the budget with every upload that passes through a long queue.
func TestHeldBytesAreFreedOnceSent(t *testing.T) {
	dir := t.TempDir()
	r := &heapRemote{fakeRemote: newFake(), started: make(chan struct{}), open: make(chan struct{})}
	s, err := New(dir, r, 1)
	if err != nil {
		t.Fatal(err)
	}
	s.waits = nil
	ctx := context.Background()
	st := s.Wrap(ctx, state.OpenStore(dir, state.NewLock(), nil), &planner.Plan{})
	if err := st.Begin(ctx, nil, nil); err != nil {
		t.Fatal(err)
	}
	commitFile(t, st, "image.first", "first.png", []byte("first"))
	<-r.started
	// A long queue ahead (e.g. Begin's uploads of recorded images the
	// store lacks): here, entries whose files are missing (each fails
	// fast as a per-object FileError).
	for i := range 4000 {
		e := state.Entry{Provider: providers.Draft, Path: fmt.Sprintf("missing/%d.png", i), SHA256: sum([]byte(fmt.Sprint("m", i))), Bytes: 1}
		st.enqueue(e.Path, e)
	}
	close(r.open)
	waitDrained := func() {
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			st.mu.Lock()
			n := len(st.queue)
			st.mu.Unlock()
			if n == 0 {
				return
			}
		}
		t.Fatal("queue not drained")
	}
	waitDrained()
	st.mu.Lock()
	t.Logf("queue array: len %d, cap left %d", len(st.queue), cap(st.queue))
	st.mu.Unlock()
	runtime.GC()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	const n, size = 300, 256 << 10
	for i := range n {
		b := make([]byte, size)
		copy(b, fmt.Sprint("image ", i))
		commitFile(t, st, fmt.Sprintf("image.i%d", i), fmt.Sprintf("i%d.png", i), b)
		if i%8 == 0 {
			waitDrained()
		}
	}
	waitDrained()
	time.Sleep(100 * time.Millisecond)
	runtime.GC()
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	grown := int64(m1.HeapAlloc) - int64(m0.HeapAlloc)
	t.Logf("held (budget count) now: %d bytes; heap grew by %.1f MiB over %d uploads of %d KiB, all sent", st.held.Load(), float64(grown)/(1<<20), n, size>>10)
	if grown > 2*heldBudget {
		t.Errorf("%.1f MiB of uploaded images' bytes still reachable, heldBudget is %d MiB", float64(grown)/(1<<20), heldBudget>>20)
	}
	if err := st.End(ctx); err != nil {
		t.Fatal(err)
	}
	st.Close(ctx)
}
