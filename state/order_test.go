package state

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/pixform/pixform/addrs"
)

// keyOrder returns the lockfile keys of data in the order they appear.
func keyOrder(t *testing.T, data []byte) []string {
	t.Helper()
	var keys []string
	for _, line := range strings.Split(string(data), "\n") {
		if k, ok := strings.CutPrefix(line, `    "`); ok && strings.HasSuffix(k, `: {`) {
			var s string
			if err := json.Unmarshal([]byte(`"`+strings.TrimSuffix(k, `: {`)), &s); err != nil {
				t.Fatalf("key line %q: %v", line, err)
			}
			keys = append(keys, s)
		}
	}
	return keys
}

// One key order everywhere: Marshal, the Recorder and Merge all write
// lockfile keys in address order, count indexes numerically.
func TestLockKeyOrder(t *testing.T) {
	want := []string{`image.a`, `image.a["x"]`, `image.a[2]`, `image.a[9]`, `image.a[10]`, `image.a[11]`, `image.b`}
	l := NewLock()
	for i, k := range want {
		l.Images[addrs.MustParse(k)] = entryN(i)
	}

	t.Run("Marshal", func(t *testing.T) {
		if got := keyOrder(t, l.Marshal()); !slices.Equal(got, want) {
			t.Errorf("Marshal key order = %q, want %q", got, want)
		}
	})

	t.Run("Recorder", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), LockFileName)
		start := l.Clone()
		delete(start.Images, addrs.MustParse(`image.a[10]`))
		r := NewRecorder(p, start)
		defer r.Close()
		if err := r.Set(addrs.MustParse(`image.a[10]`), entryN(4)); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := keyOrder(t, data); !slices.Equal(got, want) {
			t.Errorf("Recorder key order = %q, want %q", got, want)
		}
	})

	t.Run("Merge", func(t *testing.T) {
		ours, theirs := l.Clone(), l.Clone()
		for _, k := range []string{`image.a[10]`, `image.a[9]`, `image.a[2]`} {
			e := theirs.Images[addrs.MustParse(k)]
			e.Inputs.Seed += 1000
			theirs.Images[addrs.MustParse(k)] = e
			e.Inputs.Seed += 1000
			ours.Images[addrs.MustParse(k)] = e
		}
		merged, conflicts := Merge(l, ours, theirs)
		if want := []string{`image.a[2]`, `image.a[9]`, `image.a[10]`}; !slices.Equal(addrStrings(conflicts), want) {
			t.Errorf("Merge conflicts = %q, want %q", conflicts, want)
		}
		text := MarshalConflicts(merged, conflicts, ours, theirs)
		var kept []string
		for _, k := range keyOrder(t, text) {
			if len(kept) == 0 || kept[len(kept)-1] != k { // each conflict shows twice
				kept = append(kept, k)
			}
		}
		if !slices.Equal(kept, want) {
			t.Errorf("MarshalConflicts key order = %q, want %q", kept, want)
		}
	})
}

// A lockfile written before keys were in address order (bytewise, as
// encoding/json sorts a map: image.a[10] before image.a[9]) still parses,
// through the canonical-head shortcut too, and is rewritten in address
// order.
func TestParseLockBytewiseOrder(t *testing.T) {
	l := lockN(12)
	old, err := json.MarshalIndent(struct {
		Version int              `json:"version"`
		Images  map[string]Entry `json:"images"`
	}{LockVersion, stringKeyed(l.Images)}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	old = append(old, '\n')
	if !bytes.HasPrefix(old, []byte(canonicalHead)) {
		t.Fatalf("old lockfile does not start with the canonical head:\n%s", old)
	}
	if i, j := bytes.Index(old, []byte(`"image.img[10]"`)), bytes.Index(old, []byte(`"image.img[9]"`)); i > j {
		t.Fatal("test data: encoding/json no longer sorts bytewise")
	}
	got, err := ParseLock(old, "old.json")
	if err != nil {
		t.Fatalf("bytewise-sorted lockfile: %v", err)
	}
	if !reflect.DeepEqual(got, l) {
		t.Fatal("bytewise-sorted lockfile parsed to a different lock")
	}
	again := got.Marshal()
	if bytes.Equal(again, old) {
		t.Fatal("Marshal kept the bytewise order")
	}
	if i, j := bytes.Index(again, []byte(`"image.img[9]"`)), bytes.Index(again, []byte(`"image.img[10]"`)); i > j {
		t.Errorf("Marshal wrote image.img[10] before image.img[9]")
	}
}
