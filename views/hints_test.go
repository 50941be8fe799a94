package views

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/pixform/pixform/executor"
)

// TestApplyHint: the next step after an apply that did not finish, worded
// once, from the facts the executor states.
func TestApplyHint(t *testing.T) {
	local := func(errno syscall.Errno) error {
		le := &executor.LocalError{Op: "write", Path: "images/a.png", Err: &os.PathError{Op: "write", Path: "/w/images/.pixform-tmp-a.png-1", Err: errno}}
		return fmt.Errorf("the local disk refused an image: %w", le)
	}
	tests := map[string]struct {
		err  error
		res  *executor.Result
		want string
	}{
		"interrupted": {executor.ErrInterrupted, &executor.Result{Stopped: executor.ErrInterrupted},
			"hint: every image that finished is on disk and recorded in pixform.lock.json; run apply again to continue"},
		"canceled": {context.Canceled, &executor.Result{Stopped: context.Canceled}, "run apply again to continue"},
		"failures": {errors.New("1 of 2 image change(s) failed"), &executor.Result{Failed: 1}, "; run apply again to retry the rest"},
		"throttled": {fmt.Errorf("the Imagine API has %w for 10m0s", executor.ErrThrottledOut), &executor.Result{Stopped: errors.New("x")},
			"; wait a while (the Imagine API is rate-limiting this token), then run apply again"},
		"full disk":  {local(syscall.ENOSPC), &executor.Result{}, "; free some space on the disk that holds /w/images, then run apply again"},
		"read-only":  {local(syscall.EROFS), &executor.Result{}, "/w/images is on a read-only file system: make it writable, then run apply again"},
		"permission": {local(syscall.EACCES), &executor.Result{}, "make /w/images writable, then run apply again"},
		"too large":  {local(syscall.EFBIG), &executor.Result{}, "raise the file size limit (ulimit -f)"},
		"other":      {local(syscall.EIO), &executor.Result{}, "fix the problem with /w/images, then run apply again"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			WriteError(&b, ApplyHint(tt.err, tt.res, "/w"), false)
			out := b.String()
			if !strings.Contains(out, tt.want) {
				t.Errorf("got\n%s\nwant it to contain %q", out, tt.want)
			}
			if n := strings.Count(out, "run apply again"); n != 1 {
				t.Errorf("%q appears %d times, want once:\n%s", "run apply again", n, out)
			}
			if !strings.HasPrefix(out, "pixform: error: "+tt.err.Error()+"\n") {
				t.Errorf("the error is not stated first, as is:\n%s", out)
			}
		})
	}
	if ApplyHint(nil, nil, "/w") != nil {
		t.Error("ApplyHint(nil) is not nil")
	}
}
