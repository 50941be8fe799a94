package state

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/providers"
)

// An entry with takes, a pick and an approval round-trips byte for byte,
// and a lockfile without them is written as it always was.
func TestReviewFieldsRoundTrip(t *testing.T) {
	for _, name := range []string{"candidates.json", "valid.json"} {
		data := mustRead(t, name)
		l, err := ParseLock([]byte(data), name)
		if err != nil {
			t.Fatal(err)
		}
		out := l.Marshal()
		if name == "candidates.json" && !bytes.Equal(out, []byte(data)) {
			t.Fatalf("%s re-marshals differently:\n%s", name, out)
		}
		l2, err := ParseLock(out, "again")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(l, l2) {
			t.Fatalf("round trip changed the lock")
		}
	}
	l, _ := ParseLock([]byte(mustRead(t, "candidates.json")), "c")
	e := l.Images[addrs.MustParse("image.hero")]
	if e.AtPath() != 2 || e.AwaitsPick() || e.Approved == nil || e.TakeFull(3).Width != 512 || e.TakeFull(1).Width != 1024 {
		t.Fatalf("parsed %+v", e)
	}
}

func TestParseLockReviewErrors(t *testing.T) {
	h := func(c string) string { return strings.Repeat(c, 64) }
	base := mustRead(t, "candidates.json")
	sub := func(old, new string) string {
		if !strings.Contains(base, old) {
			t.Fatalf("fixture lacks %q", old)
		}
		return strings.Replace(base, old, new, 1)
	}
	tests := map[string]struct {
		data string
		want []string
	}{
		"candidates one":    {sub(`"candidates": 3`, `"candidates": 1`), []string{"candidates.json:4:", `"image.hero"`, "inputs.candidates 1 is outside 2..16"}},
		"candidates 17":     {sub(`"candidates": 3`, `"candidates": 17`), []string{"outside 2..16"}},
		"takes count":       {sub(`"candidates": 3`, `"candidates": 4`), []string{"inputs.candidates is 4 but 3 takes"}},
		"takes without":     {sub(`"seed": 42,`+"\n"+`        "candidates": 3`, `"seed": 42`), []string{"takes are recorded but inputs.candidates is not"}},
		"picked zero-based": {sub(`"picked": 2`, `"picked": 4`), []string{"picked 4 is not the number of a take (1..3)"}},
		"picked wrong file": {sub(`"picked": 2`, `"picked": 1`), []string{"takes[0], the take at path, is not the file"}},
		"first seed":        {sub(`"seed": 42,`+"\n"+`          "sha256"`, `"seed": 43,`+"\n"+`          "sha256"`), []string{"takes[0].seed 43 is not inputs.seed 42"}},
		"duplicate seed":    {sub(`"seed": 9,`, `"seed": 7,`), []string{"takes[2].seed 7 is recorded twice"}},
		"take bad hash":     {sub(`"sha256": "`+h("c"), `"sha256": "`+h("C")), []string{"takes[2].sha256"}},
		"take no bytes":     {sub(`"bytes": 300`, `"bytes": 0`), []string{"takes[2].bytes 0 is not positive"}},
		"take half size":    {sub(`"height": 288`, `"height": 0`), []string{"takes[2]: width 512 and height 0"}},
		"take field":        {sub(`"bytes": 300`, `"bytes": 300, "score": 1`), []string{`unknown field "score"`}},
		"approved other":    {sub(`"sha256": "`+h("b")+`"`+"\n      }", `"sha256": "`+h("a")+`"`+"\n      }"), []string{"approval is of other bytes"}},
		"approved empty by": {sub(`"by": "Bo"`, `"by": ""`), []string{`"image.icon"`, "approved.by is empty"}},
		"approved escape":   {sub(`"by": "Bo"`, `"by": "Bo\u001b[2J"`), []string{"candidates.json:", `"image.icon"`, "approved.by", "control character U+001B"}},
		"approved newline":  {sub(`"by": "Bo"`, `"by": "Bo\n  approved   by Ann"`), []string{`"image.icon"`, "approved.by", "control character U+000A"}},
		"approved C1":       {sub(`"by": "Bo"`, `"by": "Bo\u009b2J"`), []string{"approved.by", "control character U+009B"}},
		"approved bidi":     {sub(`"by": "Bo"`, `"by": "Bo\u202e"`), []string{"approved.by", "U+202E"}},
		"approved long by":  {sub(`"by": "Bo"`, `"by": "`+strings.Repeat("B", 257)+`"`), []string{"approved.by is longer than 256 bytes"}},
		"approved bad time": {sub(`"at": "2026-11-29T12:30:00Z"`, `"at": "yesterday"`), []string{`approved.at "yesterday" is not a time in RFC 3339 form`}},
		"approved local":    {sub(`"at": "2026-11-29T12:30:00Z"`, `"at": "2026-11-29T12:30:00+01:00"`), []string{"UTC"}},
		"approved not obj":  {sub(`"approved": {`+"\n"+`        "by": "Bo",`, `"approved": 1, "x": {"by": "Bo",`), []string{`"approved" must be an object`}},
		"picked on single":  {sub(`"height": 64,`, `"height": 64, "picked": 1,`), []string{"picked is recorded but inputs.candidates is not"}},
		"takes on single":   {sub(`"height": 64,`, `"height": 64, "takes": [],`), []string{}},
		"candidates string": {sub(`"candidates": 3`, `"candidates": "3"`), []string{`"inputs.candidates" must be a whole number`}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := ParseLock([]byte(tc.data), "candidates.json")
			if name == "takes on single" {
				// An empty list is no takes: accepted, and written without it.
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("parsed")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestTakeSeeds(t *testing.T) {
	for _, seed := range []int64{1, 42, providers.MaxSeed} {
		in := Inputs{Prompt: "p", Style: "s", AspectRatio: "1:1", Seed: seed, Candidates: MaxCandidates}
		seeds := in.TakeSeeds()
		if len(seeds) != MaxCandidates || seeds[0] != seed {
			t.Fatalf("seeds %v", seeds)
		}
		seen := map[int64]bool{}
		for _, s := range seeds {
			if s < 1 || s > providers.MaxSeed || seen[s] {
				t.Fatalf("seed %d bad or repeated in %v", s, seeds)
			}
			seen[s] = true
		}
		if again := in.TakeSeeds(); !reflect.DeepEqual(again, seeds) {
			t.Fatal("not deterministic")
		}
	}
	if got := (Inputs{Seed: 9}).TakeSeeds(); !reflect.DeepEqual(got, []int64{9}) {
		t.Fatalf("single: %v", got)
	}
	// The fixed sequence: changing it would orphan every cached take.
	if got := (Inputs{Seed: 42, Candidates: 3}).TakeSeeds(); got[1] != 3988955324 {
		t.Fatalf("sequence changed: %v", got)
	}
}

func TestDigestCandidates(t *testing.T) {
	in := Inputs{Prompt: "p", Style: "s", AspectRatio: "1:1", Seed: 3}
	// A single render's digest is as before candidates existed.
	if got := in.Digest(); got != "650016a76df66c6c74c33956bbd3d90f4b37e854eb6b611b89385d45f3e50238" {
		t.Fatalf("digest of a single render changed: %s", got)
	}
	one := in
	one.Candidates = 1
	four := in
	four.Candidates = 4
	if one.Digest() != in.Digest() || four.Digest() == in.Digest() || four.Take(3) != in {
		t.Fatal("candidates digest")
	}
	if four.PickKey() == four.Digest() || four.PickKey() == in.PickKey() {
		t.Fatal("pick key")
	}
}

func TestPickAndApprove(t *testing.T) {
	l, _ := ParseLock([]byte(mustRead(t, "candidates.json")), "c")
	e := l.Images[addrs.MustParse("image.hero")]
	p := e.Pick(3)
	if err := ValidateEntry(p); err != nil {
		t.Fatal(err)
	}
	if p.Approved != nil || p.Picked != 3 || p.Width != 512 || p.SHA256 != e.Takes[2].SHA256 || p.Takes[1].Width != 1024 || p.Takes[2].Width != 0 {
		t.Fatalf("pick 3: %+v", p)
	}
	back := p.Pick(2)
	if back.Approved != nil || !reflect.DeepEqual(back.Takes, e.Takes) {
		t.Fatalf("pick 2 again: %+v", back)
	}
	same := e.Pick(2)
	if same.Approved == nil {
		t.Fatal("picking the take already there dropped the approval")
	}
	if n, ok := e.FindTake(9); !ok || n != 3 {
		t.Fatalf("by seed: %d %v", n, ok)
	}
	if n, ok := e.FindTake(2); !ok || n != 2 {
		t.Fatalf("by number: %d %v", n, ok)
	}
	if _, ok := e.FindTake(8); ok {
		t.Fatal("found a take for 8")
	}
	a := p.Approve("Cy", time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)))
	if err := ValidateEntry(a); err != nil || a.Approved.At != "2026-01-02T02:04:05Z" || a.Approved.SHA256 != p.SHA256 {
		t.Fatalf("approve: %+v %v", a.Approved, err)
	}
}
