package views

import (
	"errors"
	"strings"
	"testing"

	"github.com/pixform/pixform/objstore"
)

// TestStoreHintsEveryKind: a store error of any kind a user can meet
// says what to do (a bad object name is refused with its own lockfile
// message, before any request).
func TestStoreHintsEveryKind(t *testing.T) {
	for k := objstore.Other; k <= objstore.Canceled; k++ {
		if k == objstore.BadKey {
			continue
		}
		err := &objstore.Error{Kind: k, URL: "file:///tmp/store", Object: "sha256/ab/ab", Err: errors.New("stat: not a directory")}
		hints := storeHints(err)
		if len(hints) == 0 {
			t.Errorf("%v: no hint", k)
		}
	}
	if h := storeHints(&objstore.Error{Kind: objstore.Other, Err: errors.New("not a directory")}); len(h) == 0 || !strings.Contains(h[0], "mend") {
		t.Errorf("Other: hints %q, want one that says to mend the store", h)
	}
}

// A store lock's fields come from the store: the error and the
// force-unlock hint show no raw control character, and the ID is one
// shell word.
func TestStoreHintsHostileLock(t *testing.T) {
	err := &objstore.LockedError{URL: "file:///s", Object: "locks/k", Info: objstore.LockInfo{ID: "x; rm -rf ~\x1b[2J", Holder: "a\x1b]0;t\a", Host: "h\nhint: forged", PID: 1}}
	text := err.Error() + strings.Join(storeHints(err), "\n")
	if strings.ContainsAny(text, "\x1b\a") || strings.Contains(err.Error(), "\n") {
		t.Errorf("raw control characters in %q", text)
	}
	if h := storeHints(err); len(h) < 2 || !strings.Contains(h[1], `force-unlock 'x; rm -rf ~\x1b[2J'`) {
		t.Errorf("hints %q, want the ID quoted and escaped", h)
	}
}
