package state

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/pixform/pixform/addrs"
)

// checkCanonical fails t when parseCanonical accepts data that the strict
// parser refuses or reads otherwise. It returns whether it accepted.
func checkCanonical(t *testing.T, data []byte) bool {
	t.Helper()
	fast, ok := parseCanonical(data, parseCopy)
	// Scanned in two halves at once (wherever an entry ends at or past
	// the middle), it reads the same, or refuses too.
	if split, splitOK := parseCanonicalSplit(data, 0); splitOK != ok || !reflect.DeepEqual(split, fast) {
		t.Fatalf("scanned in two halves: %v, %+v; in one: %v, %+v\n%s", splitOK, split, ok, fast, data)
	}
	// Sharing data's bytes, in one scan or two, it reads the same too.
	for _, splitFrom := range []int{-1, 0} {
		if shared, sharedOK := parseCanonicalShare(bytes.Clone(data), splitFrom, true); sharedOK != ok || !reflect.DeepEqual(shared, fast) {
			t.Fatalf("sharing data (split from %d): %v, %+v; copying: %v, %+v\n%s", splitFrom, sharedOK, shared, ok, fast, data)
		}
	}
	if !ok {
		return false
	}
	strict, err := parseStrict(data, "lock.json")
	if err != nil {
		t.Fatalf("parseCanonical accepted what the strict parser refuses (%v):\n%s", err, data)
	}
	if !reflect.DeepEqual(fast, strict) {
		t.Fatalf("parseCanonical read\n%+v\nthe strict parser\n%+v", fast, strict)
	}
	return true
}

// ParseLockShared reads the strings a lockfile holds as they are (no
// escape) in the lockfile's own bytes, not in copies of them; ParseLock
// copies them.
func TestParseLockSharedPointsIntoData(t *testing.T) {
	lock := lockN(400)
	e := lock.Images[addrs.MustParse("image.img[7]")]
	e.Inputs.Prompt = "a \"quoted\" prompt" // escaped: a string of its own
	lock.Images[addrs.MustParse("image.img[7]")] = e
	e = lock.Images[addrs.MustParse("image.img[8]")]
	e.Inputs.Prompt = "plain"
	lock.Images[addrs.MustParse("image.img[8]")] = e
	data := lock.Marshal()
	inside := func(s string) bool {
		p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		start := uintptr(unsafe.Pointer(&data[0]))
		return s != "" && p >= start && p+uintptr(len(s)) <= start+uintptr(len(data))
	}
	for _, mode := range []parseMode{parseCopy, parseShared, parseSharedBeside} {
		share := mode != parseCopy
		got, err := parseLock(data, "lock.json", mode)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, lock) {
			t.Fatalf("share %v: read\n%+v\nwant\n%+v", share, got, lock)
		}
		for a, e := range got.Images {
			for _, s := range []string{e.Path, e.SHA256} {
				if inside(s) != share {
					t.Fatalf("share %v: %s: %q inside the lockfile's bytes: %v", share, a, s, inside(s))
				}
			}
			// A prompt the lockfile holds as it is: not escaped.
			verbatim := bytes.Contains(data, []byte(`"prompt": "`+e.Inputs.Prompt+`"`))
			if want := share && verbatim; inside(e.Inputs.Prompt) != want {
				t.Fatalf("share %v: %s: prompt %q inside the lockfile's bytes: %v", share, a, e.Inputs.Prompt, !want)
			}
		}
	}
}

// TestParseCanonical: Marshal's output, whatever its entries hold (escaped
// prompts, derived images, candidates and reviews), takes the fast path
// and reads as the strict parser reads it; anything else, or anything the
// strict parser refuses, does not.
func TestParseCanonical(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "lock", "*.json"))
	accepted := 0
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		lock, err := ParseLock(data, p)
		if err != nil {
			checkCanonical(t, data)
			continue
		}
		if !checkCanonical(t, lock.Marshal()) {
			t.Errorf("%s: Marshal's output does not take the fast path", p)
		}
		accepted++
	}
	if accepted < 3 {
		t.Fatalf("only %d lockfiles of testdata/lock parse", accepted)
	}
	big := lockN(300)
	e := big.Images[addrs.MustParse("image.img[7]")]
	e.Inputs.Prompt = "tab\t, quote \", backslash \\, <html> & \u2028, é, \x01"
	big.Images[addrs.MustParse("image.img[7]")] = e
	if !checkCanonical(t, big.Marshal()) {
		t.Error("a lockfile of 300 entries does not take the fast path")
	}

	good := string(lockN(3).Marshal())
	// Entries whose every byte Marshal writes as it is (lockN's prompts
	// hold escapes): they are taken as their own encoding.
	plainLock := NewLock()
	for i, e := range lockN(3).Images {
		a := addrs.MustParse(fmt.Sprintf("image.view[\"v%d\"]", i.Index))
		e.Inputs.Prompt = "a plain prompt for " + a.String()
		plainLock.Images[a] = e
	}
	plain := string(plainLock.Marshal())
	if !checkCanonical(t, []byte(plain)) {
		t.Error("a lockfile of plain entries does not take the fast path")
	}
	body := plain[len(lockHead+lockOpen) : len(plain)-len(lockTail)]
	first := body[:strings.Index(body, "\n    }")+len("\n    }")]
	if _, _, isPlain, ok := (&entryScanner{}).entry([]byte(first)); !ok || !isPlain {
		t.Errorf("an entry as Marshal writes it, of printable ASCII, is not read as its own encoding:%s", first)
	}
	for name, data := range map[string]string{
		"quote as \\u0022":  strings.Replace(plain, `view[\"v0\"]`, `view[\u0022v0\"]`, 1),
		"raw less-than":     strings.Replace(plain, "\"prompt\": \"", "\"prompt\": \"<", 1),
		"raw greater-than":  strings.Replace(plain, "\"prompt\": \"", "\"prompt\": \">", 1),
		"raw U+2028":        strings.Replace(plain, "\"prompt\": \"", "\"prompt\": \"\u2028", 1),
		"invalid UTF-8":     strings.Replace(plain, "\"prompt\": \"", "\"prompt\": \"\xff", 1),
		"raw ampersand":     strings.Replace(plain, "\"prompt\": \"", "\"prompt\": \"&", 1),
		"raw tab":           strings.Replace(plain, "\"prompt\": \"", "\"prompt\": \"\t", 1),
		"escaped letter":    strings.Replace(plain, "\"style\": \"", "\"style\": \"\\u0061", 1),
		"escaped slash":     strings.Replace(plain, "\"prompt\": \"", "\"prompt\": \"\\/", 1),
		"minus zero":        strings.Replace(plain, "\"seed\": 1\n", "\"seed\": -0\n", 1),
		"leading zero":      strings.Replace(plain, "\"width\": 1024", "\"width\": 01024", 1),
		"long zero padding": strings.Replace(plain, "\"width\": 1024", "\"width\": 0000000000000000000001024", 1),
		"plus sign":         strings.Replace(plain, "\"width\": 1024", "\"width\": +1024", 1),
	} {
		t.Run("plain "+name, func(t *testing.T) {
			if data == plain {
				t.Fatal("the case changes nothing")
			}
			if checkCanonical(t, []byte(data)) {
				t.Errorf("parseCanonical accepted it")
			}
		})
	}
	for name, data := range map[string]string{
		"indented otherwise": strings.Replace(good, "\n      \"path\"", "\n     \"path\"", 1),
		"unknown field":      strings.Replace(good, "\"height\": 576\n", "\"height\": 576,\n      \"x\": 1\n", 1),
		"duplicate address":  strings.Replace(good, "image.img[1]", "image.img[0]", 1),
		"seed of 0":          strings.Replace(good, "\"seed\": 1\n", "\"seed\": 0\n", 1),
		"leading zero":       strings.Replace(good, "\"width\": 1024", "\"width\": 01024", 1),
		"escaped slash":      strings.Replace(good, "images/", "images\\/", 1),
		"invalid UTF-8":      strings.Replace(good, "\"prompt\": \"", "\"prompt\": \"\xff", 1),
		"lone surrogate":     strings.Replace(good, "\"prompt\": \"", "\"prompt\": \"\\ud800", 1),
		"trailing data":      good + "{}",
		"no final newline":   strings.TrimSuffix(good, "\n"),
		"newer version":      strings.Replace(good, "\"version\": 1", "\"version\": 2", 1),
		"same path twice":    strings.Replace(good, "images/img-00001.png", "images/img-00000.png", 1),
	} {
		t.Run(name, func(t *testing.T) {
			if data == good {
				t.Fatal("the case changes nothing")
			}
			if checkCanonical(t, []byte(data)) {
				t.Errorf("parseCanonical accepted it")
			}
		})
	}
}

// FuzzParseCanonical: whatever parseCanonical accepts, the strict parser
// reads the same.
func FuzzParseCanonical(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "lock", "*.json"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		if l, err := ParseLock(b, p); err == nil {
			f.Add(l.Marshal())
		}
	}
	f.Add(lockN(3).Marshal())
	f.Fuzz(func(t *testing.T, data []byte) {
		checkCanonical(t, data)
	})
}

// TestParseCanonicalSplitDuplicates: two entries that write one path are
// refused when they fall in different halves of a split scan, as in one.
func TestParseCanonicalSplitDuplicates(t *testing.T) {
	l := lockN(300)
	first, last := addrs.MustParse("image.img[0]"), addrs.MustParse("image.img[299]")
	e := l.Images[last]
	e.Path = l.Images[first].Path
	l.Images[last] = e
	data := l.Marshal()
	if _, ok := parseCanonicalSplit(data, 0); ok {
		t.Fatal("split scan accepted two entries with one path")
	}
	if _, ok := parseCanonicalSplit(data, -1); ok {
		t.Fatal("one scan accepted two entries with one path")
	}
	if _, ok := parseCanonicalSplit(lockN(300).Marshal(), 0); !ok {
		t.Fatal("split scan refused a canonical lockfile")
	}
}

// TestEntryScanAllocs: an entry in Marshal's common layout is read
// without allocating the entry (its strings aside): only one that needs
// encoding/json gets a decoder's.
func TestEntryScanAllocs(t *testing.T) {
	lock := NewLock()
	a := addrs.MustParse(`image.view["v1"]`)
	for _, e := range lockN(1).Images {
		e.Inputs.Prompt = "a plain prompt"
		lock.Images[a] = e
	}
	data := lock.Marshal()
	start := bytes.Index(data, []byte("\n    \""))
	end := bytes.Index(data, []byte(entryEnd)) + len(entryEnd)
	if start < 0 || end < start {
		t.Fatalf("no entry in\n%s", data)
	}
	raw := data[start:end]
	sc := &entryScanner{intern: map[string]string{}}
	if _, _, plain, ok := sc.entry(raw); !ok || !plain {
		t.Fatalf("the entry was not read in Marshal's layout (ok %v, plain %v):\n%s", ok, plain, raw)
	}
	// The strings are new each time: the key, the address's name and
	// key, prompt, path and sha256; the entry itself is not allocated.
	if n := testing.AllocsPerRun(50, func() { sc.entry(raw) }); n > 6 {
		t.Errorf("%v allocations an entry, want at most 6 (its strings)", n)
	}
}

// A lockfile read for a plan allocates, for each entry, the lock's own
// copy of it and its address's name: not its strings (they point into the
// lockfile's bytes), nor a copy of it to put into the lock.
func TestParseLockSharedAllocations(t *testing.T) {
	const n = 2000
	lock := NewLock()
	for i := range n {
		e := entryN(i)
		e.Inputs.Prompt = fmt.Sprintf("prompt number %d", i)
		lock.Images[addrs.MustParse(fmt.Sprintf("image.img[%d]", i))] = e
	}
	data := lock.Marshal()
	for _, splitFrom := range []int{-1, 0} {
		if got, ok := parseCanonicalShare(data, splitFrom, true); !ok || !reflect.DeepEqual(got, lock) {
			t.Fatalf("split from %d: not read as written (ok %v)", splitFrom, ok)
		}
		allocs := testing.AllocsPerRun(3, func() { parseCanonicalShare(data, splitFrom, true) })
		if allocs > n+100 {
			t.Errorf("split from %d: %v allocations for %d entries, want at most %d", splitFrom, allocs, n, n+100)
		}
	}
}

// isAddrKey agrees with comparing the address's String.
func TestIsAddrKey(t *testing.T) {
	for _, key := range []string{
		"image.a", "image.a[0]", "image.a[123456]", "image.a[007]", "image.a[-1]",
		`image.a["k"]`, `image.a["a b"]`, `image.a["\u00e9"]`, `image.a["é"]`, `image.a["\"q\""]`,
		`image.a["\x41"]`, `image.a['k']`, " image.a", "a", "image.a[]", `image.a["\t"]`, `image.a["\u0009"]`,
		"image." + strings.Repeat("n", 100) + "[99]",
	} {
		a, err := addrs.Parse(key)
		if err != nil {
			continue
		}
		if got, want := isAddrKey(a, key), a.String() == key; got != want {
			t.Errorf("isAddrKey(%#v, %q) = %v, want %v", a, key, got, want)
		}
	}
}
