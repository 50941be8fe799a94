package state

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkRecorderRewrite measures one lockfile write of a Recorder
// holding 10,000 entries: frags gathers the entries' cached encodings
// (nothing is re-serialized), then put streams them to a temporary file,
// fsyncs and renames it.
func BenchmarkRecorderRewrite(b *testing.B) {
	r := newRecorder(filepath.Join(b.TempDir(), LockFileName), lockN(10000), func(string, []byte) error { return nil })
	defer r.Close()
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		var frags [][]byte
		for b.Loop() {
			r.mu.Lock()
			frags = r.frags(frags)
			r.mu.Unlock()
		}
	})
	b.Run("write", func(b *testing.B) {
		r.mu.Lock()
		r.write = nil
		r.mu.Unlock()
		r.path = filepath.Join(b.TempDir(), LockFileName)
		frags := r.frags(nil)
		b.SetBytes(int64(len(encodeFrags(nil, frags))))
		for b.Loop() {
			if err := r.put(frags); err != nil {
				b.Fatal(err)
			}
		}
		os.Remove(r.path)
	})
}
