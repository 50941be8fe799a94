package state

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/edits"
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
