package objstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"testing"

	"github.com/pixform/pixform/internal/s3test"
)

// benchStores are the stores the benchmarks measure: a directory, and S3
// through a local VersityGW when one is installed.
func benchStores(b *testing.B) map[string]string {
	m := map[string]string{"file": "file://" + b.TempDir()}
	if bin, _, _ := s3test.Find(false); bin != "" {
		srv := s3test.Start(b, b.TempDir())
		b.Cleanup(srv.Stop)
		for _, kv := range srv.Env() {
			k, v, _ := bytes.Cut([]byte(kv), []byte("="))
			b.Setenv(string(k), string(v))
		}
		m["s3"] = srv.URL("bench")
	}
	return m
}

// BenchmarkStore puts, checks and gets 1 MiB objects, each distinct.
func BenchmarkStore(b *testing.B) {
	ctx := context.Background()
	const size = 1 << 20
	for name, u := range benchStores(b) {
		s, err := Open(ctx, u)
		if err != nil {
			b.Fatal(err)
		}
		body := bytes.Repeat([]byte{1}, size)
		var shas []string
		next := func(i int) []byte {
			binary.BigEndian.PutUint64(body, uint64(i)+uint64(len(shas))<<32)
			return body
		}
		b.Run(name+"/Put", func(b *testing.B) {
			b.SetBytes(size)
			for i := range b.N {
				p := next(i)
				h := sum(p)
				if err := s.Put(ctx, h, bytes.NewReader(p)); err != nil {
					b.Fatal(err)
				}
				shas = append(shas, h)
			}
		})
		b.Run(name+"/Has", func(b *testing.B) {
			for i := range b.N {
				if ok, err := s.Has(ctx, shas[i%len(shas)]); err != nil || !ok {
					b.Fatal(ok, err)
				}
			}
		})
		b.Run(name+"/Get", func(b *testing.B) {
			b.SetBytes(size)
			for i := range b.N {
				if err := s.Get(ctx, shas[i%len(shas)], io.Discard, size); err != nil {
					b.Fatal(err)
				}
			}
		})
		s.Close()
	}
}
