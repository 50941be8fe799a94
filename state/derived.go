package state

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/edits"
	"github.com/pixform/pixform/internal/nofollow"
	"github.com/pixform/pixform/internal/safepath"
	"github.com/pixform/pixform/providers"
)

// knownOperation reports an edit operation a lockfile may record: one
// that sends an image to an endpoint (local edits record none).
func knownOperation(op string) bool {
	s, ok := edits.Lookup(op)
	return ok && s.Image && !s.Local
}

// SourceAddr returns the address a derived image is made from, and false
// when its source is a file (or it is not derived).
func (in Inputs) SourceAddr() (addrs.Addr, bool) {
	if !strings.HasPrefix(in.Source, "image.") {
		return addrs.Addr{}, false
	}
	a, err := parseAddrKey(in.Source)
	return a, err == nil
}

// validateDerived checks the inputs of a derived or transparent image.
func validateDerived(in Inputs) error {
	switch {
	case in.Seed < 0 || in.Seed > providers.MaxSeed:
		return fmt.Errorf("inputs.seed %d is outside 0..%d", in.Seed, int64(providers.MaxSeed))
	case in.Transparent && in.Derived():
		return errors.New("inputs.transparent is set on a derived image")
	case in.Transparent:
		if in.Prompt == "" || in.AspectRatio == "" || in.Seed < 1 {
			return errors.New("a transparent image's inputs need prompt, aspect_ratio and seed")
		}
		if in.Operation != "" || in.Mask != "" || in.Resize != "" || in.Crop != "" || in.Quality != 0 {
			return errors.New("a transparent image's inputs name an operation, mask, resize, crop or quality")
		}
		return nil
	case in.Operation != "" && !knownOperation(in.Operation):
		return fmt.Errorf("inputs.operation %q is not an operation pixform knows", in.Operation)
	case in.SourceSHA256 != "" && !validSHA256(in.SourceSHA256):
		return fmt.Errorf("inputs.source_sha256 %q is not 64 lower-case hex digits", in.SourceSHA256)
	case in.SourceSHA256 == "":
		return errors.New("inputs.source_sha256 is missing")
	case in.Mask != "" && !validSHA256(in.MaskSHA256):
		return fmt.Errorf("inputs.mask_sha256 %q is not 64 lower-case hex digits", in.MaskSHA256)
	case in.Mask == "" && in.MaskSHA256 != "":
		return errors.New("inputs.mask_sha256 is set without a mask")
	case in.Quality < 0 || in.Quality > 100:
		return fmt.Errorf("inputs.quality %d is outside 1..100", in.Quality)
	}
	if _, ok := in.SourceAddr(); !ok {
		if err := checkPath(in.Source); err != nil {
			return fmt.Errorf("inputs.source %q is neither an image address nor a file path pixform may read: %v", in.Source, err)
		}
	}
	if in.Mask != "" {
		if err := checkPath(in.Mask); err != nil {
			return fmt.Errorf("inputs.mask %q is not a file path pixform may read: %v", in.Mask, err)
		}
	}
	return nil
}

// appendDerived appends the set derived fields of in, each on its line
// after the seed, in the lockfile's order.
func appendDerived(buf []byte, in *Inputs) []byte {
	str := func(name, v string) {
		if v != "" {
			buf = append(buf, ",\n        \""...)
			buf = append(buf, name...)
			buf = append(buf, "\": "...)
			buf = appendJSONString(buf, v)
		}
	}
	str("operation", in.Operation)
	str("source", in.Source)
	str("source_sha256", in.SourceSHA256)
	str("mask", in.Mask)
	str("mask_sha256", in.MaskSHA256)
	if in.Transparent {
		buf = append(buf, ",\n        \"transparent\": true"...)
	}
	str("resize", in.Resize)
	str("crop", in.Crop)
	if in.Quality != 0 {
		buf = append(buf, ",\n        \"quality\": "...)
		buf = strconv.AppendInt(buf, int64(in.Quality), 10)
	}
	return buf
}

// SourceError is a file a derived image is made from that cannot be
// used: missing, unsafe, too large, or not the bytes the plan expects.
type SourceError struct {
	Path string
	Msg  string
	Err  error
}

func (e *SourceError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Path, e.Msg, e.Err)
	}
	return e.Path + ": " + e.Msg
}

func (e *SourceError) Unwrap() error { return e.Err }

// ReadVerified reads the file at p (slash-separated, relative to dir)
// that a derived image is made from: through the path rules (inside dir,
// no symbolic link on the way, not under .pixform/), at most maxBytes,
// and only if its bytes hash to sha256hex. The error is a *SourceError.
func ReadVerified(dir, p, sha256hex string, maxBytes int64) ([]byte, error) {
	if _, err := safepath.NewDisk(dir).Check(p); err != nil {
		return nil, &SourceError{Path: p, Msg: "not a path pixform may read", Err: err}
	}
	f, err := nofollow.OpenFile(filepath.Join(dir, filepath.FromSlash(p)), os.O_RDONLY, 0)
	if err != nil {
		return nil, &SourceError{Path: p, Msg: "cannot be opened", Err: err}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, &SourceError{Path: p, Msg: "cannot be examined", Err: err}
	}
	if !fi.Mode().IsRegular() {
		return nil, &SourceError{Path: p, Msg: "is not a regular file"}
	}
	data, err := io.ReadAll(io.LimitReader(f, maxBytes+1))
	if err != nil {
		return nil, &SourceError{Path: p, Msg: "cannot be read", Err: err}
	}
	if int64(len(data)) > maxBytes {
		return nil, &SourceError{Path: p, Msg: fmt.Sprintf("is larger than the %d bytes an image may be", maxBytes)}
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != sha256hex {
		return nil, &SourceError{Path: p, Msg: fmt.Sprintf("changed since the plan was made (sha256 %s, the plan expects %s)", got[:12], shortHex(sha256hex))}
	}
	return data, nil
}

func shortHex(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
