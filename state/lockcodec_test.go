package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/media"
	"github.com/pixform/pixform/providers"
)

// entryN returns a valid, distinct entry for index i.
func entryN(i int) Entry {
	return Entry{
		Inputs: Inputs{
			Prompt:      fmt.Sprintf("prompt number %d with <html> & \"quotes\" and ünïcode", i),
			Style:       "flux-dev",
			AspectRatio: "16:9",
			Seed:        int64(i + 1),
		},
		Provider:  providers.Imagine,
		Path:      fmt.Sprintf("images/img-%05d.png", i),
		SHA256:    fmt.Sprintf("%064x", i),
		Bytes:     int64(1000 + i),
		MediaType: media.PNG,
		Width:     1024,
		Height:    576,
	}
}

func lockN(n int) *Lock {
	l := NewLock()
	for i := range n {
		l.Images[addrs.MustParse(fmt.Sprintf("image.img[%d]", i))] = entryN(i)
	}
	return l
}

func TestDigest(t *testing.T) {
	base := Inputs{Prompt: "ab", Style: "c", AspectRatio: "1:1", Seed: 1}
	tests := map[string]struct {
		a, b Inputs
		same bool
	}{
		"equal":                {base, base, true},
		"prompt differs":       {base, Inputs{Prompt: "ab ", Style: "c", AspectRatio: "1:1", Seed: 1}, false},
		"shifted boundary":     {Inputs{Prompt: "ab", Style: "c", AspectRatio: "1:1", Seed: 1}, Inputs{Prompt: "a", Style: "bc", AspectRatio: "1:1", Seed: 1}, false},
		"shifted into ratio":   {Inputs{Prompt: "x", Style: "", AspectRatio: "y", Seed: 1}, Inputs{Prompt: "", Style: "x", AspectRatio: "y", Seed: 1}, false},
		"NUL inside a field":   {Inputs{Prompt: "a\x00b", Style: "c", AspectRatio: "", Seed: 1}, Inputs{Prompt: "a", Style: "b\x00c", AspectRatio: "", Seed: 1}, false},
		"seed differs":         {base, Inputs{Prompt: "ab", Style: "c", AspectRatio: "1:1", Seed: 2}, false},
		"seed high bits":       {Inputs{Seed: 1}, Inputs{Seed: 1 << 32}, false},
		"style differs":        {base, Inputs{Prompt: "ab", Style: "d", AspectRatio: "1:1", Seed: 1}, false},
		"aspect ratio differs": {base, Inputs{Prompt: "ab", Style: "c", AspectRatio: "16:9", Seed: 1}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			da, db := tc.a.Digest(), tc.b.Digest()
			if len(da) != 64 || strings.ToLower(da) != da {
				t.Fatalf("digest %q is not 64 lower-case hex", da)
			}
			if (da == db) != tc.same {
				t.Fatalf("Digest(%+v)=%s, Digest(%+v)=%s, want same=%v", tc.a, da, tc.b, db, tc.same)
			}
		})
	}
}

func TestParseLockValid(t *testing.T) {
	tests := map[string]struct {
		file  string
		addrs []string
	}{
		"three entries": {"valid.json", []string{"image.hero", `image.icon["home"]`, "image.variant[0]"}},
		"empty images":  {"empty.json", nil},
		"no images":     {"noimages.json", nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "lock", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			l, err := ParseLock(data, tc.file)
			if err != nil {
				t.Fatal(err)
			}
			if l.Images == nil {
				t.Fatal("Images is nil")
			}
			if len(l.Images) != len(tc.addrs) {
				t.Fatalf("got %d entries, want %d", len(l.Images), len(tc.addrs))
			}
			for _, a := range tc.addrs {
				if _, ok := l.Images[addrs.MustParse(a)]; !ok {
					t.Errorf("missing %s", a)
				}
			}
		})
	}
}

func TestParseLockHero(t *testing.T) {
	data, err := os.ReadFile("testdata/lock/valid.json")
	if err != nil {
		t.Fatal(err)
	}
	l, err := ParseLock(data, "pixform.lock.json")
	if err != nil {
		t.Fatal(err)
	}
	want := Entry{
		Inputs:   Inputs{Prompt: `a futuristic city at night, neon <lights> & "rain"`, Style: "flux-dev", AspectRatio: "16:9", Seed: 42},
		Provider: "imagine", Path: "assets/hero.png",
		SHA256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		Bytes:  183204, MediaType: "image/png", Width: 1024, Height: 576,
	}
	if got := l.Images[addrs.MustParse("image.hero")]; !got.Equal(want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

// validEntryJSON is one entry in the lockfile's layout, with %s-replaceable
// parts via strings.Replace in the tests below.
const validEntryJSON = `{"inputs": {"prompt": "p", "style": "flux-dev", "aspect_ratio": "1:1", "seed": 7},
 "provider": "imagine", "path": "a/b.png",
 "sha256": "0000000000000000000000000000000000000000000000000000000000000000",
 "bytes": 5, "media_type": "image/png", "width": 1, "height": 2}`

// candidatesEntryJSON is a valid entry of two takes, with more added to
// its second take's fields.
func candidatesEntryJSON(more string) string {
	zero, one := strings.Repeat("0", 64), strings.Repeat("1", 64)
	return `{"inputs": {"prompt": "p", "style": "flux-dev", "aspect_ratio": "1:1", "seed": 7, "candidates": 2},
 "provider": "imagine", "path": "a/b.png", "sha256": "` + zero + `", "bytes": 5, "media_type": "image/png", "width": 1, "height": 2,
 "takes": [{"seed": 7, "sha256": "` + zero + `", "bytes": 5}, {"seed": 9, "sha256": "` + one + `", "bytes": 5, ` + more + `}]}`
}

func withEntry(addr, entry string) string {
	return `{"version": 1, "images": {` + fmt.Sprintf("%q", addr) + `: ` + entry + `}}`
}

func TestParseLockErrors(t *testing.T) {
	sub := func(old, new string) string {
		return withEntry("image.a", strings.Replace(validEntryJSON, old, new, 1))
	}
	tests := map[string]struct {
		data string
		want []string // substrings of the error
	}{
		"not json":         {"hello", []string{"f.json:1:1", "not valid JSON"}},
		"empty file":       {"", []string{"f.json:1:1", "the lockfile is empty", "delete it"}},
		"blank file":       {"\n \n", []string{"f.json:1:1", "the lockfile is empty"}},
		"byte-order mark":  {"\ufeff{\"version\": 1, \"images\": {}}\n", []string{"f.json:1:1", "byte-order mark"}},
		"truncated":        {`{"version": 1, "images": {"image.a": {"inputs"`, []string{"f.json:1:", "too early"}},
		"top level array":  {`[1]`, []string{"f.json:1:1", "must be an object"}},
		"trailing garbage": {`{"version": 1} {}`, []string{"f.json:1:", "not valid JSON"}},
		"conflict markers": {mustRead(t, "conflict.json"), []string{"f.json:4:1", "unresolved merge conflict in f.json at line 4", "keep one side of each marked entry"}},
		"no version":       {`{"images": {}}`, []string{"no \"version\""}},
		"null version":     {`{"version": null}`, []string{"no \"version\""}},
		"newer version":    {`{"version": 2, "images": {"x": {"new_field": 1}}}`, []string{"lockfile version 2 is newer than this pixform understands (1): upgrade pixform"}},
		"older version":    {`{"version": 0}`, []string{"lockfile version 0 is not one"}},
		"string version":   {`{"version": "1"}`, []string{`version "1" is not a whole number`}},
		"unknown top":      {"{\"version\": 1,\n \"extra\": 3}", []string{"f.json:2:2", `unknown field "extra"`}},
		"duplicate top":    {`{"version": 1, "version": 1}`, []string{`"version" appears twice`}},
		"images array":     {`{"version": 1, "images": []}`, []string{`"images" must be an object`}},
		"unknown entry field": {withEntry("image.a", strings.Replace(validEntryJSON, `"width"`, `"colour": 1, "width"`, 1)),
			[]string{`"image.a"`, `unknown field "colour" in the entry`, "f.json:4:41:"}},
		"unknown inputs field": {sub(`"seed"`, `"cfg": 3, "seed"`), []string{`unknown field "cfg"`}},
		// Field names are matched exactly, letter case too, and once each
		// (review finding s17, item 2): encoding/json would take
		// "Approved" for "approved", which a review of the diff for
		// "approved" misses, and the last of two "prompt" lines that a
		// conflict resolved by keeping both sides leaves.
		"case-folded entry field": {strings.Replace(withEntry("image.a", validEntryJSON), `"width"`, "\n\"Width\"", 1),
			[]string{"f.json:5:1:", `"image.a"`, `unknown field "Width" in the entry: pixform writes it "width"`, "letter case", "restore the lockfile"}},
		"case-folded approved": {withEntry("image.a", strings.Replace(validEntryJSON, `"height": 2}`, `"height": 2, "Approved": {"by": "Eve", "at": "2026-11-30T00:00:00Z", "sha256": "0000000000000000000000000000000000000000000000000000000000000000"}}`, 1)),
			[]string{`unknown field "Approved" in the entry: pixform writes it "approved"`}},
		"case-folded approved field": {withEntry("image.a", strings.Replace(validEntryJSON, `"height": 2}`, `"height": 2, "approved": {"By": "Eve", "at": "2026-11-30T00:00:00Z", "sha256": "0000000000000000000000000000000000000000000000000000000000000000"}}`, 1)),
			[]string{`unknown field "By" in approved: pixform writes it "by"`}},
		"case-folded inputs field": {sub(`"prompt"`, `"Prompt"`), []string{`unknown field "Prompt" in inputs: pixform writes it "prompt"`}},
		"escaped entry field":      {sub(`"provider"`, `"pro\u0076ider"`), []string{`field "pro\\u0076ider" in the entry is spelt with an escape`}},
		"escaped approved":         {withEntry("image.a", strings.Replace(validEntryJSON, `"height": 2}`, `"height": 2, "\u0061pproved": {"by": "Eve", "at": "2026-11-30T00:00:00Z", "sha256": "0000000000000000000000000000000000000000000000000000000000000000"}}`, 1)), []string{`is spelt with an escape`}},
		"nested unknown in takes":  {withEntry("image.a", candidatesEntryJSON(`"x": {"seed": [1, {"a": "}"}]}`)), []string{`unknown field "x" in takes[1]`}},
		"keys after nested values": {withEntry("image.a", candidatesEntryJSON(`"media_type": "image/png", "width": 1, "height": 2}, {"seed": 11, "sha256": "x", "bytes": 1, "Bytes": 2`)), []string{`unknown field "Bytes" in takes[2]`}},
		"duplicate inputs field": {strings.Replace(withEntry("image.a", validEntryJSON), `"style"`, "\n\"prompt\": \"q\", \"style\"", 1),
			[]string{"f.json:2:1:", `"image.a"`, `field "prompt" appears twice in inputs`, "keep one", "restore the lockfile"}},
		"duplicate entry field": {sub(`"bytes": 5`, `"bytes": 5, "bytes": 6`), []string{`field "bytes" appears twice in the entry`}},
		"duplicate take field": {withEntry("image.a", candidatesEntryJSON(`"seed": 9`)),
			[]string{`field "seed" appears twice in takes[1]`}},
		"case-folded take field": {withEntry("image.a", candidatesEntryJSON(`"Width": 1`)),
			[]string{`unknown field "Width" in takes[1]: pixform writes it "width"`}},
		"bad address":        {withEntry("hero", validEntryJSON), []string{`"hero"`, "canonical form", "image.hero"}},
		"unparsable address": {withEntry("image.a[", validEntryJSON), []string{"invalid image address"}},
		"non-canonical key":  {withEntry(`image.a["x" ]`, validEntryJSON), []string{"invalid image address"}},
		"padded index":       {withEntry("image.a[01]", validEntryJSON), []string{"canonical form", "image.a[1]"}},
		"duplicate address":  {`{"version": 1, "images": {"image.a": ` + validEntryJSON + `, "image.a": ` + validEntryJSON + `}}`, []string{"appears twice"}},
		"empty prompt":       {sub(`"prompt": "p"`, `"prompt": ""`), []string{`"image.a"`, "inputs.prompt is empty"}},
		"missing prompt":     {sub(`"prompt": "p",`, ``), []string{"inputs.prompt is empty"}},
		"empty style":        {sub(`"style": "flux-dev"`, `"style": ""`), []string{"inputs.style is empty"}},
		"empty ratio":        {sub(`"aspect_ratio": "1:1"`, `"aspect_ratio": ""`), []string{"inputs.aspect_ratio is empty"}},
		"seed zero":          {sub(`"seed": 7`, `"seed": 0`), []string{"seed 0 is outside 1..4294967295"}},
		"seed too big":       {sub(`"seed": 7`, `"seed": 4294967296`), []string{"outside"}},
		"seed negative":      {sub(`"seed": 7`, `"seed": -1`), []string{"outside"}},
		"seed fraction":      {sub(`"seed": 7`, `"seed": 1.5`), []string{`"inputs.seed" must be a whole number`}},
		"seed string":        {sub(`"seed": 7`, `"seed": "7"`), []string{"must be a whole number, not string"}},
		"bad provider":       {sub(`"provider": "imagine"`, `"provider": "dalle"`), []string{`provider "dalle"`}},
		"empty path":         {sub(`"path": "a/b.png"`, `"path": ""`), []string{"names no file"}},
		"absolute path":      {sub(`"path": "a/b.png"`, `"path": "/etc/passwd"`), []string{"is absolute"}},
		"drive path":         {sub(`"path": "a/b.png"`, `"path": "C:/x.png"`), []string{"is absolute"}},
		"backslash path":     {sub(`"path": "a/b.png"`, `"path": "a\\..\\..\\b.png"`), []string{"backslash"}},
		"dotdot path":        {sub(`"path": "a/b.png"`, `"path": "../b.png"`), []string{"leads outside the working directory"}},
		"upper workdir path": {sub(`"path": "a/b.png"`, `"path": ".PIXFORM/cache/x.png"`), []string{"pixform's own"}},
		"path line": {"{\"version\": 1, \"images\": {\"image.a\": {\"inputs\": {\"prompt\": \"\\\"path\\\": \\\"x\", \"style\": \"s\", \"aspect_ratio\": \"1:1\", \"seed\": 7},\n\"provider\": \"imagine\",\n  \"path\": \"../b.png\",\n\"sha256\": \"0000000000000000000000000000000000000000000000000000000000000000\", \"bytes\": 5, \"media_type\": \"image/png\", \"width\": 1, \"height\": 2}}}",
			[]string{"f.json:3:11:", `"image.a"`, "leads outside"}},
		"git path":        {sub(`"path": "a/b.png"`, `"path": ".git/HEAD"`), []string{`path ".git/HEAD" is inside version control's own data`, "not inside .git", "restore the lockfile"}},
		"git image path":  {sub(`"path": "a/b.png"`, `"path": ".Git/b.png"`), []string{"version control's own data"}},
		"nested git path": {sub(`"path": "a/b.png"`, `"path": "a/.git/b.png"`), []string{"version control's own data"}},
		"config path":     {sub(`"path": "a/b.png"`, `"path": "main.pix.hcl"`), []string{`path "main.pix.hcl" does not end in .png, .jpg or .jpeg`, "restore the lockfile"}},
		"no extension":    {sub(`"path": "a/b.png"`, `"path": "a/b"`), []string{`path "a/b" does not end in .png, .jpg or .jpeg`}},
		"gif path":        {sub(`"path": "a/b.png"`, `"path": "a/b.gif"`), []string{"does not end in .png, .jpg or .jpeg"}},
		"extension line": {"{\"version\": 1, \"images\": {\"image.a\": {\"inputs\": {\"prompt\": \"p\", \"style\": \"s\", \"aspect_ratio\": \"1:1\", \"seed\": 7},\n\"provider\": \"imagine\",\n  \"path\": \"notes.txt\",\n\"sha256\": \"0000000000000000000000000000000000000000000000000000000000000000\", \"bytes\": 5, \"media_type\": \"image/png\", \"width\": 1, \"height\": 2}}}",
			[]string{"f.json:3:11:", `"image.a"`, "notes.txt", "does not end in"}},
		"unclean path":    {sub(`"path": "a/b.png"`, `"path": "a/../b.png"`), []string{"not clean"}},
		"dot slash path":  {sub(`"path": "a/b.png"`, `"path": "./b.png"`), []string{"not clean"}},
		"lockfile path":   {sub(`"path": "a/b.png"`, `"path": "pixform.lock.json"`), []string{"pixform's own"}},
		"workdir path":    {sub(`"path": "a/b.png"`, `"path": ".pixform/x.png"`), []string{"pixform's own"}},
		"short sha":       {sub(`"sha256": "0000000000000000000000000000000000000000000000000000000000000000"`, `"sha256": "00"`), []string{"not 64 lower-case hex"}},
		"upper sha":       {sub(`"sha256": "0000000000000000000000000000000000000000000000000000000000000000"`, `"sha256": "000000000000000000000000000000000000000000000000000000000000000A"`), []string{"not 64 lower-case hex"}},
		"zero bytes":      {sub(`"bytes": 5`, `"bytes": 0`), []string{"bytes 0 is not positive"}},
		"bad media":       {sub(`"media_type": "image/png"`, `"media_type": "image/gif"`), []string{`media_type "image/gif"`}},
		"zero width":      {sub(`"width": 1`, `"width": 0`), []string{"width 0"}},
		"negative height": {sub(`"height": 2`, `"height": -2`), []string{"height -2"}},
		"null entry":      {withEntry("image.a", "null"), []string{"inputs.prompt is empty"}},
		"duplicate path": {`{"version": 1, "images": {"image.a": ` + validEntryJSON + `,
"image.b": ` + validEntryJSON + `}}`, []string{"f.json:6:", `"image.b"`, `path "a/b.png" is also recorded for image.a`}},
		"case-folded duplicate path": {`{"version": 1, "images": {"image.a": ` + validEntryJSON + `,
"image.b": ` + strings.Replace(validEntryJSON, `"a/b.png"`, `"A/B.png"`, 1) + `}}`, []string{"f.json:6:", `"image.b"`, `path "A/B.png" is the same file as "a/b.png", recorded for image.a`, "case-insensitive"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			l, err := ParseLock([]byte(tc.data), "f.json")
			if err == nil {
				t.Fatalf("accepted: %+v", l)
			}
			var le *LockError
			if !errors.As(err, &le) {
				t.Fatalf("error %T is not a *LockError: %v", err, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func mustRead(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "lock", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseLockValidSingle(t *testing.T) {
	// The fixture the error cases mutate must itself be valid, or those
	// cases would pass for the wrong reason.
	l, err := ParseLock([]byte(withEntry("image.a", validEntryJSON)), "f.json")
	if err != nil {
		t.Fatal(err)
	}
	if l.Images[addrs.MustParse("image.a")].Inputs.Seed != 7 {
		t.Fatalf("got %+v", l.Images[addrs.MustParse("image.a")])
	}
}

func TestReadLock(t *testing.T) {
	dir := t.TempDir()
	tests := map[string]struct {
		content *string
		entries int
		wantErr string
	}{
		"missing": {nil, 0, ""},
		"valid":   {ptr(mustRead(t, "valid.json")), 3, ""},
		"bad":     {ptr("{"), 0, "pixform.lock.json:1:1"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name, LockFileName)
			if tc.content != nil {
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(*tc.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			l, err := ReadLock(p)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if l.Images == nil || len(l.Images) != tc.entries {
				t.Fatalf("got %v entries (nil=%v), want %d", len(l.Images), l.Images == nil, tc.entries)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// stdMarshal is the reference encoding Marshal must match byte for byte:
// encoding/json's, with the images in address order (addrs.SortStrings)
// where encoding/json would sort a map's keys bytewise.
func stdMarshal(t testing.TB, l *Lock) []byte {
	t.Helper()
	var imgs orderedImages
	if l != nil {
		imgs.images = stringKeyed(l.Images)
		imgs.keys = slices.Collect(maps.Keys(imgs.images))
		addrs.SortStrings(imgs.keys)
	}
	b, err := json.MarshalIndent(struct {
		Version int           `json:"version"`
		Images  orderedImages `json:"images"`
	}{LockVersion, imgs}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// orderedImages encodes as a JSON object with its keys in the given order.
type orderedImages struct {
	keys   []string
	images map[string]Entry
}

func (o orderedImages) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, k := range o.keys {
		if i > 0 {
			b = append(b, ',')
		}
		kj, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		ej, err := json.Marshal(o.images[k])
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, kj...), ':'), ej...)
	}
	return append(b, '}'), nil
}

func TestMarshalMatchesEncodingJSON(t *testing.T) {
	odd := entryN(3)
	odd.Inputs.Prompt = "ctl \x00\x01\x1f\b\f\n\r\t \\ \" <>& \u2028\u2029 \x80 invalid \xff\xfe é 😀 \u007f"
	odd.Path = "dir with space/ü.png"
	tests := map[string]*Lock{
		"nil lock":    nil,
		"empty":       NewLock(),
		"nil images":  {},
		"one":         {Images: map[addrs.Addr]Entry{addrs.MustParse("image.hero"): entryN(0)}},
		"odd strings": {Images: map[addrs.Addr]Entry{addrs.MustParse(`image.x["a\"b<c>"]`): odd, addrs.MustParse("image.a"): entryN(1)}},
		"many":        lockN(200),
	}
	for name, l := range tests {
		t.Run(name, func(t *testing.T) {
			got := l.Marshal()
			want := stdMarshal(t, l.Clone())
			if string(got) != string(want) {
				t.Fatalf("Marshal differs from encoding/json:\ngot:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestMarshalRoundTripFixture(t *testing.T) {
	data := mustRead(t, "valid.json")
	l, err := ParseLock([]byte(data), "valid.json")
	if err != nil {
		t.Fatal(err)
	}
	// valid.json writes \u2028 escaped and <, >, & raw; Marshal escapes the
	// latter, so compare parsed values rather than bytes.
	l2, err := ParseLock(l.Marshal(), "again")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(l, l2) {
		t.Fatalf("round trip changed the lock:\n%+v\n%+v", l, l2)
	}
}

func TestMarshalSpeed(t *testing.T) {
	if testing.Short() {
		t.Skip("speed check")
	}
	l := lockN(10000)
	// Best of a few runs: the guarantee is about the code, not a busy machine.
	best := time.Hour
	for range 5 {
		start := time.Now()
		_ = l.Marshal()
		best = min(best, time.Since(start))
	}
	t.Logf("Marshal of 10,000 entries: best %v", best)
}

func TestClone(t *testing.T) {
	l := lockN(3)
	c := l.Clone()
	c.Images[addrs.MustParse("image.new")] = entryN(9)
	delete(c.Images, addrs.MustParse("image.img[0]"))
	if len(l.Images) != 3 {
		t.Fatalf("Clone shares the map: original now has %d entries", len(l.Images))
	}
	if (*Lock)(nil).Clone().Images == nil {
		t.Fatal("nil clone has nil Images")
	}
}

func BenchmarkMarshal10k(b *testing.B) {
	l := lockN(10000)
	b.ReportAllocs()
	for b.Loop() {
		_ = l.Marshal()
	}
}

func BenchmarkMarshal10kEncodingJSON(b *testing.B) {
	l := lockN(10000)
	for b.Loop() {
		_ = stdMarshal(b, l)
	}
}

func BenchmarkParseLock10k(b *testing.B) {
	data := lockN(10000).Marshal()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseLock(data, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseLock10kStrict parses a lockfile of 10,000 images that
// is not in Marshal's layout (one line, as a tool other than pixform
// may write it): the strict way, entry by entry.
func BenchmarkParseLock10kStrict(b *testing.B) {
	data, err := json.Marshal(struct {
		Version int              `json:"version"`
		Images  map[string]Entry `json:"images"`
	}{1, func() map[string]Entry {
		m := map[string]Entry{}
		for a, e := range lockN(10000).Images {
			m[a.String()] = e
		}
		return m
	}()})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseLock(data, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzParseLock(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "lock", "*.json"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(lockN(2).Marshal())
	f.Add([]byte(withEntry("image.a", validEntryJSON)))
	// Keys in another letter case, and keys twice, in each object.
	f.Add([]byte(strings.Replace(withEntry("image.a", validEntryJSON), `"width"`, `"Width"`, 1)))
	f.Add([]byte(strings.Replace(withEntry("image.a", validEntryJSON), `"style"`, `"prompt": "q", "style"`, 1)))
	f.Add([]byte(withEntry("image.a", candidatesEntryJSON(`"seed": 9`))))
	f.Add([]byte(withEntry("image.a", candidatesEntryJSON(`"Width": 1, "height": 2`))))
	f.Add([]byte(withEntry("image.a", strings.Replace(validEntryJSON, `"height": 2}`, `"height": 2, "Approved": {"by": "Eve", "at": "2026-11-30T00:00:00Z", "sha256": "`+strings.Repeat("0", 64)+`"}}`, 1))))
	f.Add([]byte(withEntry("image.a", strings.Replace(validEntryJSON, `"height": 2}`, `"height": 2, "approved": {"by": "Eve", "by": "Ann", "at": "2026-11-30T00:00:00Z", "sha256": "`+strings.Repeat("0", 64)+`"}}`, 1))))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseLock(data, "fuzz.json")
		if err != nil {
			if l != nil {
				t.Fatal("non-nil lock with an error")
			}
			return
		}
		out := l.Marshal()
		l2, err := ParseLock(out, "remarshal.json")
		if err != nil {
			t.Fatalf("re-parse of Marshal output failed: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(l, l2) {
			t.Fatalf("round trip changed the lock:\n%+v\n%+v", l, l2)
		}
		if string(l2.Marshal()) != string(out) {
			t.Fatal("Marshal is not a fixed point")
		}
	})
}

// TestLockKeysMatchTags holds the field names checkEntryKeys accepts to
// the JSON names of the structs an entry decodes into.
func TestLockKeysMatchTags(t *testing.T) {
	for _, tc := range []struct {
		typ  reflect.Type
		keys []string
	}{
		{reflect.TypeFor[Entry](), entryKeys},
		{reflect.TypeFor[Inputs](), inputsKeys},
		{reflect.TypeFor[Take](), takeKeys},
		{reflect.TypeFor[Approval](), approvalKeys},
	} {
		var names []string
		for f := range tc.typ.Fields() {
			names = append(names, strings.Split(f.Tag.Get("json"), ",")[0])
		}
		if !slices.Equal(names, tc.keys) {
			t.Errorf("%s: tags %q, checked keys %q", tc.typ, names, tc.keys)
		}
	}
}

// TestParseLockTypeErrorPosition: a value of the wrong type is placed at
// its own line, not at the entry's offset into the file.
func TestParseLockTypeErrorPosition(t *testing.T) {
	data := withEntry("image.a", strings.Replace(validEntryJSON, `"bytes": 5`, "\n  \"bytes\": \"5\"", 1))
	_, err := ParseLock([]byte(data), "f.json")
	if err == nil || !strings.Contains(err.Error(), "f.json:5:14:") || !strings.Contains(err.Error(), `"bytes" must be a whole number, not string`) {
		t.Fatalf("got %v", err)
	}
}
