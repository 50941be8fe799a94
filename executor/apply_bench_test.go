package executor

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
	"github.com/pixform/pixform/state"
)

// BenchmarkApply2000 applies a plan of 2,000 creates through an instant
// provider that writes a tiny PNG, with the real atomic writes (fsync
// included) and an in-memory lockfile. It reports ns per image.
func BenchmarkApply2000(b *testing.B) {
	const n = 2000
	body := pngOf(b, 8, 8, 1)
	prov := &fakeProvider{render: func(_ context.Context, _ Request, w io.Writer) error {
		_, err := w.Write(body)
		return err
	}}
	changes := make([]planner.Change, n)
	for i := range changes {
		changes[i] = planner.Change{
			Addr: addrs.Addr{Name: "img", Kind: addrs.IntKey, Index: i}, Action: planner.Create,
			Inputs: state.Inputs{Prompt: "p", Style: "flux-dev", AspectRatio: "1:1", Seed: int64(i + 1)},
			Path:   fmt.Sprintf("out/%04d.png", i), Requests: 1, Credits: 15,
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		rec := newFakeRecorder(b, dir, nil)
		rec.check = false
		prov.calls = nil
		b.StartTimer()
		res, err := Apply(context.Background(), &planner.Plan{Provider: providers.Imagine, Changes: changes}, Options{
			Dir: dir, Provider: prov, Store: rec.store(nil), Limiter: newTestLimiter(16), Parallelism: 16, MaxRetries: 3,
		})
		if err != nil || res.Generated != n {
			b.Fatalf("Apply: %v, %+v", err, countsOf(res))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/image")
}
