package state

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkRecorderRewrite measures one lockfile write of a Recorder
// holding 10,000 entries: encode builds the file from the entries'
// cached encodings (nothing is re-serialized), then WriteFileAtomic
// writes, fsyncs and renames it.
func BenchmarkRecorderRewrite(b *testing.B) {
	r := newRecorder(filepath.Join(b.TempDir(), LockFileName), lockN(10000), func(string, []byte) error { return nil })
	defer r.Close()
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r.mu.Lock()
			data := r.encode(r.spare)
			r.spare, r.disk = r.disk, data
			r.mu.Unlock()
		}
		b.SetBytes(int64(len(r.disk)))
	})
	b.Run("write", func(b *testing.B) {
		p := filepath.Join(b.TempDir(), LockFileName)
		for b.Loop() {
			if err := WriteFileAtomic(p, r.disk); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(int64(len(r.disk)))
		os.Remove(p)
	})
}
