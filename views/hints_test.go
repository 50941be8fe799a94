package views

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/executor"
	"github.com/pixform/pixform/imagine"
	"github.com/pixform/pixform/state"
)

// TestApplyHint: the next step after an apply that did not finish, worded
// once, from the facts the executor states.
func TestApplyHint(t *testing.T) {
	local := func(errno syscall.Errno) error {
		le := &executor.LocalError{Op: "write", Path: "images/a.png", Err: &os.PathError{Op: "write", Path: "/w/images/.pixform-tmp-a.png-1", Err: errno}}
		return fmt.Errorf("the local disk refused an image: %w", le)
	}
	record := func(errno syscall.Errno) error {
		return &state.RecordError{What: "the entry", Addr: addrs.MustParse("image.a"), Err: fmt.Errorf("write lockfile /w/pixform.lock.json: rename: %w", errno)}
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
		"token refused": {&executor.Error{Class: executor.Fatal, Msg: "IMAGINE_API_TOKEN is invalid (HTTP 401 Unauthorized)", Err: imagine.ErrToken},
			&executor.Result{Stopped: errors.New("x"), Failed: 1},
			"hint: every image that finished is on disk and recorded in pixform.lock.json; set IMAGINE_API_TOKEN to a valid token, then run apply again to continue"},
		"out of credits": {&executor.Error{Class: executor.Fatal, Msg: "out of credits (HTTP 402 Payment Required)", Err: imagine.ErrNoCredits},
			&executor.Result{Stopped: errors.New("x"), Failed: 1},
			"; top up your Imagine account, then run apply again to continue"},
		"throttled": {fmt.Errorf("the Imagine API has %w for 10m0s", executor.ErrThrottledOut), &executor.Result{Stopped: errors.New("x")},
			"; wait a while (the Imagine API is rate-limiting this token), then run apply again"},
		"full disk":  {local(syscall.ENOSPC), &executor.Result{}, "; free some space on the disk that holds /w/images, then run apply again"},
		"read-only":  {local(syscall.EROFS), &executor.Result{}, "/w/images is on a read-only file system: make it writable, then run apply again"},
		"permission": {local(syscall.EACCES), &executor.Result{}, "make /w/images writable, then run apply again"},
		"too large":  {local(syscall.EFBIG), &executor.Result{}, "raise the file size limit (ulimit -f)"},
		"other":      {local(syscall.EIO), &executor.Result{}, "fix the problem with /w/images, then run apply again"},
		"lockfile": {record(syscall.EEXIST), &executor.Result{Stopped: record(syscall.EEXIST), Failed: 2},
			"hint: images that finished since the lockfile was last written are on disk but not recorded in it; fix what stopped the write, then run apply again to record them"},
		"lockfile disk full": {record(syscall.ENOSPC), &executor.Result{Stopped: record(syscall.ENOSPC)},
			"not recorded in it; free some space on the disk that holds /w, then run apply again to record them"},
		"lockfile read-only": {record(syscall.EROFS), &executor.Result{Stopped: record(syscall.EROFS)},
			"/w is on a read-only file system: make it writable, then run apply again"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			WriteError(&b, ApplyHint(tt.err, tt.res, "/w"), false)
			out := b.String()
			if !strings.Contains(out, tt.want) {
				t.Errorf("got\n%s\nwant it to contain %q", out, tt.want)
			}
			if errors.As(tt.err, new(*state.RecordError)) {
				if strings.Contains(out, "is on disk and recorded") {
					t.Errorf("the hint says every image is recorded after the lockfile failed:\n%s", out)
				}
				if n := strings.Count(out, "pixform.lock.json"); n != 1 {
					t.Errorf("the lockfile is named %d times, want once (in the error):\n%s", n, out)
				}
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

// A lockfile found unwritable before the first request: nothing was done,
// so the hint is the remedy and a new apply, not the state of a run.
func TestApplyHintUnwritableLock(t *testing.T) {
	err := fmt.Errorf("%w; nothing was changed", &state.UnwritableLockError{Path: "/w/pixform.lock.json", Err: &fs.PathError{Op: "open", Path: "/w/.pixform-tmp-x", Err: syscall.EACCES}})
	var b bytes.Buffer
	WriteError(&b, ApplyHint(err, &executor.Result{}, "/w"), false)
	got := b.String()
	if !strings.Contains(got, "hint: make /w writable, then run apply again") || strings.Contains(got, "recorded in") {
		t.Errorf("got %q", got)
	}
}

// TestApplyHintPaidRefused: an image the server made and sent whole, and
// pixform refused, was paid for; the next apply asks for it again and
// pays again, so the hint says so, and what to change first.
func TestApplyHintPaidRefused(t *testing.T) {
	paid := func(bound string) error {
		var err error = errors.New("the response is too large")
		if bound != "" {
			err = &executor.BoundsError{Bound: bound, Msg: "it is 100×300 pixels, not at the aspect ratio 16:9 requested (81% off)"}
		}
		return fmt.Errorf("failed after 1 retry: %w", &executor.Error{Class: executor.Transient, Paid: true, Msg: "refused; paid for", Err: err})
	}
	fail := func(addr string, err error) executor.Failure {
		return executor.Failure{Addr: addrs.MustParse(addr), Err: err}
	}
	tests := map[string]struct {
		failures []executor.Failure
		want     []string
		not      []string
	}{
		"ratio": {[]executor.Failure{fail("image.wide", paid(executor.BoundAspectRatio))},
			[]string{"hint: every image that finished is on disk and recorded in pixform.lock.json; run apply again to retry the rest\n",
				"hint: the Imagine API made image.wide and it was paid for, but pixform refused it (not at the aspect ratio requested): the next apply requests it again, and pays for it again, and the API makes the same image for the same request; give it another aspect_ratio or style in its image block first\n"}, nil},
		"pixels": {[]executor.Failure{fail("image.a", paid(executor.BoundMaxPixels)), fail("image.b", paid(executor.BoundMaxPixels))},
			[]string{"hint: the Imagine API made image.a and image.b and they were paid for, but pixform refused them (more pixels than max_image_pixels): the next apply requests them again, and pays for them again, and the API makes the same images for the same requests; raise max_image_pixels in the provider block first, if the API really makes images that large\n"}, nil},
		"bytes": {[]executor.Failure{fail("image.big", paid(""))},
			[]string{"(larger than max_image_bytes)", "raise max_image_bytes in the provider block first"}, nil},
		"small": {[]executor.Failure{fail("image.tiny", paid(executor.BoundMinSide))},
			[]string{"(smaller than the API makes)", "give it another style in its image block first"}, nil},
		"unpaid": {[]executor.Failure{fail("image.x", &executor.Error{Class: executor.Invalid, Msg: "invalid"})},
			[]string{"run apply again to retry the rest\n"}, []string{"paid for"}},
		"mixed": {[]executor.Failure{fail("image.a", paid(executor.BoundAspectRatio)), fail("image.b", paid("")), fail("image.c", paid(executor.BoundAspectRatio))},
			[]string{"made image.a and image.c and they were paid for", "made image.b and it was paid for"}, nil},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			res := &executor.Result{Failed: len(tt.failures), Failures: tt.failures}
			err := fmt.Errorf("%d of %d image change(s) failed, the first, %s: %w", len(tt.failures), len(tt.failures), tt.failures[0].Addr, tt.failures[0].Err)
			var b bytes.Buffer
			WriteError(&b, ApplyHint(err, res, "/w"), false)
			out := b.String()
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("got\n%s\nwant it to contain %q", out, w)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(out, w) {
					t.Errorf("got\n%s\nwant it not to contain %q", out, w)
				}
			}
			if n := strings.Count(out, "run apply again"); n != 1 {
				t.Errorf("%q appears %d times, want once:\n%s", "run apply again", n, out)
			}
		})
	}
}

// TestWriteMergeConflicts: images changed on both sides are listed as
// such; images that only share a path are named with what happened to
// each, never as changed on both sides.
func TestWriteMergeConflicts(t *testing.T) {
	a, c, d, e := addrs.Addr{Name: "a"}, addrs.Addr{Name: "c"}, addrs.Addr{Name: "d"}, addrs.Addr{Name: "e"}
	for _, tc := range []struct {
		name    string
		changed []addrs.Addr
		clashes []PathClash
		want    []string
		not     []string
	}{
		{"changed", []addrs.Addr{a}, nil,
			[]string{"1 image changed on both sides:\n  image.a\n", "keep one side of each marked entry"}, []string{"cannot share a path"}},
		{"two share a path", nil, []PathClash{{Path: "x.png", Addrs: []addrs.Addr{c, e}, Whence: []string{"added in ours", "changed in theirs"}}},
			[]string{"lockfile conflict: image.c (added in ours) and image.e (changed in theirs) both record x.png.\n", "hint: two images cannot share a path"},
			[]string{"changed on both sides", "keep one side of each"}},
		{"three", []addrs.Addr{a}, []PathClash{{Path: "x.png", Addrs: []addrs.Addr{c, d, e}, Whence: []string{"added in ours", "unchanged", "added in theirs"}}},
			[]string{"1 image changed on both sides:\n  image.a\n", "image.c (added in ours), image.d (unchanged) and image.e (added in theirs) all record x.png.\n"},
			[]string{"  image.c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			WriteMergeConflicts(&b, tc.changed, tc.clashes, false)
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("missing %q in:\n%s", w, b.String())
				}
			}
			for _, w := range tc.not {
				if strings.Contains(b.String(), w) {
					t.Errorf("unexpected %q in:\n%s", w, b.String())
				}
			}
		})
	}
}
