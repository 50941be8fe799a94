package state

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pixform/pixform/internal/safepath"
	"github.com/pixform/pixform/media"
	"github.com/pixform/pixform/providers"
)

// MaxCandidates is the most takes one image may render.
const MaxCandidates = 16

// Takes returns how many renders the inputs ask for: Candidates, or 1.
func (in Inputs) Takes() int {
	if in.Candidates > 1 {
		return in.Candidates
	}
	return 1
}

// TakeSeeds returns the seed of each take: the first is Seed (a seed the
// configuration pins is the first take), and the others follow from it
// deterministically, all distinct, so that the same inputs always name the
// same takes and an undo finds them in the content cache.
func (in Inputs) TakeSeeds() []int64 {
	n := in.Takes()
	seeds := make([]int64, 1, n)
	seeds[0] = in.Seed
	x := uint64(in.Seed)
	for len(seeds) < n {
		x = splitmix64(x)
		s := int64(x%uint64(providers.MaxSeed)) + 1
		if !slices.Contains(seeds, s) {
			seeds = append(seeds, s)
		}
	}
	return seeds
}

// splitmix64 is one step of the SplitMix64 generator: a fixed, portable
// sequence, so that take seeds never change between versions.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	z := x
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Take returns the inputs of one take, by seed: a single render of the
// same prompt, style and ratio. They key the take in the content cache,
// so a take is found again whether it was rendered alone or as a candidate.
func (in Inputs) Take(seed int64) Inputs {
	t := in
	t.Candidates = 0
	t.Seed = seed
	return t
}

// pickDomain separates PickKey from every Inputs digest.
const pickDomain = "pixform.pick.v1\x00"

// PickKey is the content-cache key under which the take last picked for
// these inputs is kept, so that reverting an edit restores the pick too.
func (in Inputs) PickKey() string {
	h := sha256.New()
	h.Write([]byte(pickDomain))
	h.Write([]byte(in.Digest()))
	return hex.EncodeToString(h.Sum(nil))
}

// Equal reports whether e and o record the same thing.
func (e Entry) Equal(o Entry) bool {
	if (e.Approved == nil) != (o.Approved == nil) || (e.Approved != nil && *e.Approved != *o.Approved) {
		return false
	}
	return e.Inputs == o.Inputs && e.Provider == o.Provider && e.Path == o.Path && e.SHA256 == o.SHA256 &&
		e.Bytes == o.Bytes && e.MediaType == o.MediaType && e.Width == o.Width && e.Height == o.Height &&
		e.Picked == o.Picked && slices.Equal(e.Takes, o.Takes)
}

// AtPath is the 1-based number of the take at Path: Picked, or the first
// until a pick; 0 for an entry without takes.
func (e Entry) AtPath() int {
	switch {
	case len(e.Takes) == 0:
		return 0
	case e.Picked > 0:
		return e.Picked
	}
	return 1
}

// TakeFull returns take i (1-based) with its media type and size filled in
// from the entry where the lockfile leaves them out.
func (e Entry) TakeFull(i int) Take {
	t := e.Takes[i-1]
	if t.MediaType == "" {
		t.MediaType = e.MediaType
	}
	if t.Width == 0 {
		t.Width, t.Height = e.Width, e.Height
	}
	return t
}

// WithTakes returns e with takes (each complete: media type and size set)
// and the take at Path numbered atPath (1-based): the entry's own fields
// become that take's, and each take keeps only what differs from them.
// picked says whether a person picked it. The approval is dropped unless
// the bytes at Path stay the same.
func (e Entry) WithTakes(takes []Take, atPath int, picked bool) Entry {
	at := takes[atPath-1]
	if e.Approved != nil && e.Approved.SHA256 != at.SHA256 {
		e.Approved = nil
	}
	e.SHA256, e.Bytes, e.MediaType, e.Width, e.Height = at.SHA256, at.Bytes, at.MediaType, at.Width, at.Height
	e.Takes = make([]Take, len(takes))
	for i, t := range takes {
		if t.MediaType == e.MediaType {
			t.MediaType = ""
		}
		if t.Width == e.Width && t.Height == e.Height {
			t.Width, t.Height = 0, 0
		}
		e.Takes[i] = t
	}
	e.Picked = 0
	if picked {
		e.Picked = atPath
	}
	return e
}

// Pick returns e with take i (1-based) at Path, picked: the take's bytes
// become the entry's, and the approval goes unless the bytes are the same.
func (e Entry) Pick(i int) Entry {
	full := make([]Take, len(e.Takes))
	for j := range e.Takes {
		full[j] = e.TakeFull(j + 1)
	}
	return e.WithTakes(full, i, true)
}

// FindTake returns the 1-based number of the take that n names: a take
// number (1..len), else a take's seed. ok is false when it names none.
func (e Entry) FindTake(n int64) (int, bool) {
	if n >= 1 && n <= int64(len(e.Takes)) {
		return int(n), true
	}
	for i, t := range e.Takes {
		if t.Seed == n {
			return i + 1, true
		}
	}
	return 0, false
}

// Approve returns e approved by by at at (rendered RFC 3339, UTC) for
// the bytes at its path.
func (e Entry) Approve(by string, at time.Time) Entry {
	e.Approved = &Approval{By: by, At: at.UTC().Format(time.RFC3339), SHA256: e.SHA256}
	return e
}

// AwaitsPick reports whether e has takes and nobody picked one.
func (e Entry) AwaitsPick() bool { return len(e.Takes) > 0 && e.Picked == 0 }

// validateReview checks the candidates and review fields of e. An entry
// with none, as most are, is checked here, in a small frame: every
// image's commit checks its entry on a goroutine of its own, and
// validateReviewed's frame (its messages' arguments) would grow that
// goroutine's stack, a copy of every frame, for nothing.
func validateReview(e Entry) error {
	if e.Inputs.Candidates == 0 && len(e.Takes) == 0 && e.Picked == 0 && e.Approved == nil {
		return nil
	}
	return validateReviewed(&e)
}

// validateReviewed is validateReview of an entry with review fields.
func validateReviewed(e *Entry) error {
	in := e.Inputs
	switch {
	case in.Candidates == 1 || in.Candidates < 0 || in.Candidates > MaxCandidates:
		return fmt.Errorf("inputs.candidates %d is outside 2..%d (a single render records none)", in.Candidates, MaxCandidates)
	case in.Candidates == 0 && len(e.Takes) > 0:
		return errors.New("takes are recorded but inputs.candidates is not")
	case in.Candidates == 0 && e.Picked != 0:
		return errors.New("picked is recorded but inputs.candidates is not")
	case in.Candidates > 1 && len(e.Takes) != in.Candidates:
		return fmt.Errorf("inputs.candidates is %d but %d takes are recorded", in.Candidates, len(e.Takes))
	case e.Picked < 0 || e.Picked > len(e.Takes):
		return fmt.Errorf("picked %d is not the number of a take (1..%d)", e.Picked, len(e.Takes))
	}
	for i, t := range e.Takes {
		switch {
		case t.Seed < 1 || t.Seed > providers.MaxSeed:
			return fmt.Errorf("takes[%d].seed %d is outside 1..%d", i, t.Seed, int64(providers.MaxSeed))
		case !validSHA256(t.SHA256):
			return fmt.Errorf("takes[%d].sha256 %q is not 64 lower-case hex digits", i, t.SHA256)
		case t.Bytes <= 0:
			return fmt.Errorf("takes[%d].bytes %d is not positive", i, t.Bytes)
		case t.MediaType != "" && !media.Known(t.MediaType):
			return fmt.Errorf("takes[%d].media_type %q is neither %s nor %s", i, t.MediaType, media.PNG, media.JPEG)
		case t.Width < 0 || t.Height < 0 || (t.Width == 0) != (t.Height == 0):
			return fmt.Errorf("takes[%d]: width %d and height %d must both be positive, or both left out", i, t.Width, t.Height)
		}
		for _, u := range e.Takes[:i] {
			if u.Seed == t.Seed {
				return fmt.Errorf("takes[%d].seed %d is recorded twice", i, t.Seed)
			}
		}
	}
	if len(e.Takes) > 0 {
		if e.Takes[0].Seed != in.Seed {
			return fmt.Errorf("takes[0].seed %d is not inputs.seed %d (the first take is the image's seed)", e.Takes[0].Seed, in.Seed)
		}
		at := e.AtPath()
		t := e.TakeFull(at)
		if t.SHA256 != e.SHA256 || t.Bytes != e.Bytes || t.MediaType != e.MediaType || t.Width != e.Width || t.Height != e.Height {
			return fmt.Errorf("takes[%d], the take at path, is not the file the entry records", at-1)
		}
	}
	if a := e.Approved; a != nil {
		switch {
		case a.By == "":
			return errors.New("approved.by is empty")
		case CheckApprover(a.By) != nil:
			return fmt.Errorf("approved.by %w", CheckApprover(a.By))
		case !validSHA256(a.SHA256):
			return fmt.Errorf("approved.sha256 %q is not 64 lower-case hex digits", a.SHA256)
		case a.SHA256 != e.SHA256:
			return errors.New("approved.sha256 is not the sha256 of the file the entry records: the approval is of other bytes; approve the image again")
		}
		if t, err := time.Parse(time.RFC3339, a.At); err != nil || t.Location() != time.UTC || t.Format(time.RFC3339) != a.At {
			return fmt.Errorf("approved.at %q is not a time in RFC 3339 form, UTC (2006-01-02T15:04:05Z)", a.At)
		}
	}
	return nil
}

// maxApprover caps approved.by: a name, not a document.
const maxApprover = 256

// CheckApprover checks a name that approves images, from whatever source
// (a flag, git config, a lockfile): at most maxApprover bytes of UTF-8
// text without control characters, which would let a lockfile from a pull
// request forge lines of pixform's output or drive the terminal, and
// without bidirectional formatting characters, which reorder what is
// shown. The error completes a sentence whose subject is the name: "is
// longer than …".
func CheckApprover(by string) error {
	if len(by) > maxApprover {
		return fmt.Errorf("is longer than %d bytes", maxApprover)
	}
	if !utf8.ValidString(by) {
		return errors.New("is not UTF-8 text")
	}
	for _, r := range by {
		switch {
		case unicode.IsControl(r):
			return fmt.Errorf("contains the control character %U", r)
		case safepath.IsBidiControl(r):
			return fmt.Errorf("contains the bidirectional formatting character %U", r)
		}
	}
	return nil
}

// appendReview appends the candidates and review fields of e after its
// height, as encoding/json.MarshalIndent would.
func appendReview(buf []byte, e Entry) []byte {
	if len(e.Takes) > 0 {
		buf = append(buf, ",\n      \"takes\": ["...)
		for i, t := range e.Takes {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, "\n        {\n          \"seed\": "...)
			buf = strconv.AppendInt(buf, t.Seed, 10)
			buf = append(buf, ",\n          \"sha256\": "...)
			buf = appendJSONString(buf, t.SHA256)
			buf = append(buf, ",\n          \"bytes\": "...)
			buf = strconv.AppendInt(buf, t.Bytes, 10)
			if t.MediaType != "" {
				buf = append(buf, ",\n          \"media_type\": "...)
				buf = appendJSONString(buf, t.MediaType)
			}
			if t.Width != 0 {
				buf = append(buf, ",\n          \"width\": "...)
				buf = strconv.AppendInt(buf, int64(t.Width), 10)
			}
			if t.Height != 0 {
				buf = append(buf, ",\n          \"height\": "...)
				buf = strconv.AppendInt(buf, int64(t.Height), 10)
			}
			buf = append(buf, "\n        }"...)
		}
		buf = append(buf, "\n      ]"...)
	}
	if e.Picked != 0 {
		buf = append(buf, ",\n      \"picked\": "...)
		buf = strconv.AppendInt(buf, int64(e.Picked), 10)
	}
	if a := e.Approved; a != nil {
		buf = append(buf, ",\n      \"approved\": {\n        \"by\": "...)
		buf = appendJSONString(buf, a.By)
		buf = append(buf, ",\n        \"at\": "...)
		buf = appendJSONString(buf, a.At)
		buf = append(buf, ",\n        \"sha256\": "...)
		buf = appendJSONString(buf, a.SHA256)
		buf = append(buf, "\n      }"...)
	}
	return buf
}
