package state

import (
	"bytes"
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/pixform/pixform/addrs"
)

// conflictMessage describes a lockfile with git conflict markers whose
// first marker is at line: which addresses differ between the two sides,
// and in which fields, so that the user knows which side of each to keep.
// When the sides cannot be told apart (unbalanced markers, a side that is
// not a valid lockfile), it names the line only.
func conflictMessage(data []byte, filename string, line int) string {
	const advice = "keep one side of each marked entry (or delete the entry to render it again), then plan"
	head := fmt.Sprintf("unresolved merge conflict in %s at line %d", path.Base(filename), line)
	sides, ok := splitConflict(data)
	if !ok {
		return head + ": " + advice
	}
	ours, err1 := ParseLock(sides.ours, filename)
	theirs, err2 := ParseLock(sides.theirs, filename)
	if err1 != nil || err2 != nil {
		return head + ": " + advice
	}
	keys := slices.Collect(maps.Keys(ours.Images))
	for k := range theirs.Images {
		if _, ok := ours.Images[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, addrs.Addr.Compare)
	var b strings.Builder
	n := 0
	for _, k := range keys {
		o, inO := ours.Images[k]
		t, inT := theirs.Images[k]
		switch {
		case inO && inT && o.Equal(t):
			continue
		case !inT:
			fmt.Fprintf(&b, "\n  %s: only in %s", k, sideName("ours", sides.oursLabel))
		case !inO:
			fmt.Fprintf(&b, "\n  %s: only in %s", k, sideName("theirs", sides.theirsLabel))
		default:
			fmt.Fprintf(&b, "\n  %s:", k)
			for _, d := range entryDiff(o, t) {
				fmt.Fprintf(&b, "\n    %s: ours %s, theirs %s", d[0], d[1], d[2])
			}
		}
		n++
	}
	if n == 0 {
		return head + ": both sides record the same images; " + advice
	}
	images := "1 image differs"
	if n != 1 {
		images = fmt.Sprintf("%d images differ", n)
	}
	return fmt.Sprintf("%s: %s between %s and %s:%s\n%s", head, images, sideName("ours", sides.oursLabel), sideName("theirs", sides.theirsLabel), b.String(), advice)
}

// sideName names a side with its marker's label ("ours (HEAD)").
func sideName(side, label string) string {
	if label == side {
		return side
	}
	return side + " (" + label + ")"
}

// entryDiff lists the fields in which o and t differ: name, o's value,
// t's value, in the lockfile's field order.
func entryDiff(o, t Entry) [][3]string {
	q := strconv.Quote
	fields := [][3]string{
		{"prompt", q(o.Inputs.Prompt), q(t.Inputs.Prompt)},
		{"style", q(o.Inputs.Style), q(t.Inputs.Style)},
		{"aspect_ratio", q(o.Inputs.AspectRatio), q(t.Inputs.AspectRatio)},
		{"seed", fmt.Sprint(o.Inputs.Seed), fmt.Sprint(t.Inputs.Seed)},
		{"provider", o.Provider, t.Provider},
		{"path", o.Path, t.Path},
		{"sha256", shortHash(o.SHA256), shortHash(t.SHA256)},
		{"bytes", fmt.Sprint(o.Bytes), fmt.Sprint(t.Bytes)},
		{"media_type", o.MediaType, t.MediaType},
		{"size", fmt.Sprintf("%d×%d", o.Width, o.Height), fmt.Sprintf("%d×%d", t.Width, t.Height)},
		{"candidates", fmt.Sprint(o.Inputs.Candidates), fmt.Sprint(t.Inputs.Candidates)},
		{"picked", fmt.Sprint(o.Picked), fmt.Sprint(t.Picked)},
		{"approved", approvalText(o.Approved), approvalText(t.Approved)},
	}
	var out [][3]string
	for _, f := range fields {
		if f[1] != f[2] {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		// Equal as shown but not as values (a hash differing past its
		// first 12 digits): show the whole hashes.
		out = append(out, [3]string{"sha256", o.SHA256, t.SHA256})
	}
	return out
}

// approvalText shows a review for a conflict summary.
func approvalText(a *Approval) string {
	if a == nil {
		return "none"
	}
	return fmt.Sprintf("by %s at %s", strconv.Quote(a.By), a.At)
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}

// conflictSides is a conflicted file split into the text of each side:
// the lines outside conflict blocks go to both, a block's first part to
// ours and its last part to theirs (a diff3 base part is dropped).
type conflictSides struct {
	ours, theirs           []byte
	oursLabel, theirsLabel string
}

// splitConflict splits data at its git conflict markers. ok is false when
// the markers are not balanced blocks.
func splitConflict(data []byte) (conflictSides, bool) {
	s := conflictSides{oursLabel: "ours", theirsLabel: "theirs"}
	const (
		outside = iota
		inOurs
		inBase
		inTheirs
	)
	state, labelled := outside, false
	for _, l := range bytes.SplitAfter(data, []byte("\n")) {
		trimmed := bytes.TrimRight(l, "\r\n")
		switch {
		case bytes.HasPrefix(trimmed, []byte("<<<<<<<")):
			if state != outside {
				return s, false
			}
			state = inOurs
			if label := strings.TrimSpace(string(trimmed[7:])); label != "" && !labelled {
				s.oursLabel = label
			}
		case bytes.HasPrefix(trimmed, []byte("|||||||")):
			if state != inOurs {
				return s, false
			}
			state = inBase
		case bytes.Equal(trimmed, []byte("=======")):
			if state != inOurs && state != inBase {
				return s, false
			}
			state = inTheirs
		case bytes.HasPrefix(trimmed, []byte(">>>>>>>")):
			if state != inTheirs {
				return s, false
			}
			state = outside
			if label := strings.TrimSpace(string(trimmed[7:])); label != "" && !labelled {
				s.theirsLabel = label
			}
			labelled = true
		default:
			switch state {
			case outside:
				s.ours = append(s.ours, l...)
				s.theirs = append(s.theirs, l...)
			case inOurs:
				s.ours = append(s.ours, l...)
			case inTheirs:
				s.theirs = append(s.theirs, l...)
			}
		}
	}
	return s, state == outside && labelled
}
