package state

import (
	"fmt"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/pixform/pixform/addrs"
)

// A Recorder keeps each entry's encoding once and no whole copy of the
// lockfile besides: what it retains after many writes is about one
// lockfile's worth of bytes plus its index of the entries, not two
// lockfile buffers (one on disk, one to build the next write in).
func TestRecorderRetainsOneLockfile(t *testing.T) {
	const n = 4000
	start := lockN(n)
	size := len(start.Marshal())
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := NewRecorder(filepath.Join(t.TempDir(), LockFileName), start)
	// Writes that replace entries and add some, concurrently so that the
	// Recorder batches them as in an apply.
	done := make(chan error, 200)
	for i := range 200 {
		go func() {
			done <- r.Set(addrs.MustParse(fmt.Sprintf("image.img[%d]", n-100+i)), entryN(n+i))
		}()
	}
	for range 200 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	kept := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	// The fragments, packed, are about half a lockfile, and the sorted
	// addresses with the slice of the fragments on disk half of one more;
	// fragments as encoded would bring the total to 1.5 times, a map of
	// the entries besides to 2.5 times, a second buffer of the whole file
	// to 3.5 times.
	if limit := int64(size) * 13 / 10; kept > limit {
		t.Errorf("the Recorder retains %d bytes for a lockfile of %d: more than %d", kept, size, limit)
	}
	t.Logf("retained %d bytes for a lockfile of %d (%.2f×)", kept, size, float64(kept)/float64(size))
	runtime.KeepAlive(start)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}
