package storesync

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/pixform/pixform/objstore"
)

// benchRemote is a file:// objstore.Store as a Remote, its flushes left
// out (they measure the file system, not the checks), checked in turn
// (instant) or as a remote store is, at most Sync.parallel at a time.
type benchRemote struct {
	*objstore.Store
	instant bool
}

func (r benchRemote) Instant() bool                   { return r.instant }
func (r benchRemote) Flush(ctx context.Context) error { return nil }
func (r benchRemote) PutInputs(ctx context.Context, digest string, rec Record) error {
	return r.Store.PutInputs(ctx, digest, objstore.Record(rec))
}
func (r benchRemote) GetInputs(ctx context.Context, digest string) (Record, bool, error) {
	rec, ok, err := r.Store.GetInputs(ctx, digest)
	return Record(rec), ok, err
}

// BenchmarkCheckFileStore: Recheck of 4,000 objects, half of them held,
// in a file:// store in a directory of this disk (BENCH_STORE_DIR, else
// a temporary one), asked in turn and as a remote store is asked.
func BenchmarkCheckFileStore(b *testing.B) {
	ctx := context.Background()
	dir := os.Getenv("BENCH_STORE_DIR")
	if dir == "" {
		dir = b.TempDir()
	} else {
		var err error
		if dir, err = os.MkdirTemp(dir, "store"); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { os.RemoveAll(dir) })
	}
	st, err := objstore.Open(ctx, "file://"+dir)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if !st.Instant() {
		b.Skip("not a local file system")
	}
	var sums []string
	for i := range 4000 {
		body := []byte(fmt.Sprint("object ", i))
		sums = append(sums, sum(body))
		if i%2 == 0 {
			if err := st.Put(ctx, sum(body), bytes.NewReader(body)); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, instant := range []bool{true, false} {
		for _, parallel := range []int{4, LocalParallelism} {
			if instant && parallel != 4 {
				continue
			}
			name := "in-turn"
			if !instant {
				name = fmt.Sprint("parallel-", parallel)
			}
			b.Run(name, func(b *testing.B) {
				s, err := New(b.TempDir(), benchRemote{st, instant}, parallel)
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				cpu0 := cpuTime()
				for b.Loop() {
					if err := s.Recheck(ctx, sums); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}
