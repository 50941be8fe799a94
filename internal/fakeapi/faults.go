package fakeapi

import (
	"strconv"
	"strings"
	"time"
)

// promptFault is one [fault:...] tag of a prompt.
type promptFault struct {
	code  int           // vendor error to answer, or 0
	kind  Fault         // FaultTruncate, FaultHang, FaultReset, FaultJSON200, or FaultNone
	times int           // attempts it covers from the first; -1 for all
	slow  time.Duration // extra latency on every attempt
}

// promptTags is what a prompt's tags ask for.
type promptTags struct {
	faults []promptFault
	slow   time.Duration
	jpeg   bool
}

// parseTags reads the [fault:...] and [format:...] tags of a prompt.
// Malformed tags are ignored: they are just text to the fake.
func parseTags(prompt string) promptTags {
	var t promptTags
	rest := prompt
	for {
		i := strings.IndexByte(rest, '[')
		if i < 0 {
			return t
		}
		rest = rest[i+1:]
		j := strings.IndexByte(rest, ']')
		if j < 0 {
			return t
		}
		tag := rest[:j]
		switch {
		case strings.HasPrefix(tag, "format:"):
			f := strings.TrimPrefix(tag, "format:")
			t.jpeg = f == "jpeg" || f == "jpg"
		case strings.HasPrefix(tag, "fault:"):
			pf, ok := parseFault(strings.TrimPrefix(tag, "fault:"))
			if !ok {
				continue
			}
			if pf.slow > 0 {
				t.slow += pf.slow
				continue
			}
			t.faults = append(t.faults, pf)
		}
	}
}

// parseFault parses the part of a fault tag after "fault:".
func parseFault(s string) (promptFault, bool) {
	if d, ok := strings.CutPrefix(s, "slow="); ok {
		dur, err := time.ParseDuration(d)
		if err != nil || dur <= 0 {
			return promptFault{}, false
		}
		return promptFault{slow: dur}, true
	}
	kind, times, hasTimes := strings.Cut(s, "x")
	var pf promptFault
	switch kind {
	case "truncate":
		pf = promptFault{kind: FaultTruncate, times: 1}
	case "hang":
		pf = promptFault{kind: FaultHang, times: 1}
	case "reset":
		pf = promptFault{kind: FaultReset, times: 1}
	case "json200":
		pf = promptFault{kind: FaultJSON200, times: 1}
	default:
		if f, ok := hostileFault(kind); ok {
			pf = promptFault{kind: f, times: 1}
			break
		}
		n, err := strconv.Atoi(kind)
		if err != nil {
			return promptFault{}, false
		}
		code := statusCode(n)
		if _, ok := vendorErr(code); !ok {
			return promptFault{}, false
		}
		pf = promptFault{code: code, times: -1}
		if retryable(code) {
			pf.times = 1
		}
	}
	if hasTimes {
		if times == "*" {
			pf.times = -1
		} else {
			n, err := strconv.Atoi(times)
			if err != nil || n < 1 {
				return promptFault{}, false
			}
			pf.times = n
		}
	}
	return pf, true
}

// hostileFault returns the hostile answer a fault tag names.
func hostileFault(name string) (Fault, bool) {
	switch name {
	case "echo":
		return FaultEcho, true
	case "echo429":
		return FaultEcho429, true
	case "bomb":
		return FaultBomb, true
	case "tiny":
		return FaultTiny, true
	case "wrongratio":
		return FaultWrongRatio, true
	case "huge":
		return FaultHuge, true
	case "redirect":
		return FaultRedirect, true
	case "stall":
		return FaultStall, true
	}
	return FaultNone, false
}

// statusCode maps an HTTP status written as a fault to its usual vendor
// code; vendor codes pass through.
func statusCode(n int) int {
	switch n {
	case 400:
		return 1100
	case 401:
		return 1001
	case 402:
		return 1101
	case 406:
		return 1002
	case 429:
		return 1202
	case 500:
		return 1300
	case 503:
		return 1200
	case 504:
		return 1204
	}
	return n
}

// retryable reports whether a retry can get past code, so that a prompt
// fault with it defaults to the first attempt only.
func retryable(code int) bool {
	switch code {
	case 1200, 1201, 1202, 1203, 1204, 1205, 1300:
		return true
	}
	return false
}

// at returns the fault covering the attempt'th attempt (1-based), if any.
func (t promptTags) at(attempt int) (promptFault, bool) {
	for _, f := range t.faults {
		if f.times < 0 || attempt <= f.times {
			return f, true
		}
	}
	return promptFault{}, false
}
