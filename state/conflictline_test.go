package state

import (
	"bytes"
	"strings"
	"testing"
)

// conflictMarkerLineByLine is conflictMarkerLine as it was written first,
// line by line: the reference the fast one is compared with.
func conflictMarkerLineByLine(data []byte) int {
	line := 1
	for len(data) > 0 {
		end := bytes.IndexByte(data, '\n')
		l := data
		if end >= 0 {
			l = data[:end]
		}
		if bytes.HasPrefix(l, []byte("<<<<<<<")) || bytes.HasPrefix(l, []byte(">>>>>>>")) ||
			bytes.HasPrefix(l, []byte("|||||||")) || bytes.Equal(bytes.TrimRight(l, "\r"), []byte("=======")) ||
			bytes.HasPrefix(l, []byte("======= ")) {
			return line
		}
		if end < 0 {
			break
		}
		data = data[end+1:]
		line++
	}
	return 0
}

func conflictSeeds() []string {
	lock := string(lockN(5).Marshal())
	return []string{
		"", "\n", "<<<<<<<", "<<<<<<< HEAD\n", "a\n<<<<<<", "a\n<<<<<<<", "a\n>>>>>>> b\n",
		"x\n|||||||\n", "=======", "=======\r\n", "=======\r\r", "======= x", "========", "x\n=======\n",
		"x\n= \n=======", "\n\n\n<\n>\n|\n=\n<<<<<<<", "x\r\n<<<<<<< y", " <<<<<<<\n", "\n=======x\n",
		lock,
		strings.Replace(lock, "\n    \"image", "\n<<<<<<< ours\n    \"image", 1),
		strings.Replace(lock, "\n  }", "\n=======\n  }", 1),
		strings.Replace(lock, "\n  }", "\n>>>>>>> theirs\n  }", 1),
		lock + "=======",
		lock + "\n|||||||",
	}
}

// TestConflictMarkerLine: the first marker's line, as read line by line.
func TestConflictMarkerLine(t *testing.T) {
	for _, s := range conflictSeeds() {
		if got, want := conflictMarkerLine([]byte(s)), conflictMarkerLineByLine([]byte(s)); got != want {
			t.Errorf("conflictMarkerLine(%q) = %d, line by line %d", s, got, want)
		}
	}
}

func FuzzConflictMarkerLine(f *testing.F) {
	for _, s := range conflictSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := conflictMarkerLine(data), conflictMarkerLineByLine(data); got != want {
			t.Fatalf("conflictMarkerLine(%q) = %d, line by line %d", data, got, want)
		}
	})
}
