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
