package executor

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pixform/pixform/planner"
	"github.com/pixform/pixform/providers"
)

// failingWriter fails every write with err, as a temporary file on a full
// or read-only disk does.
type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

// TestApplyLocalWriteErrors: a local disk that cannot take an image stops
// the run at once, with the OS error and the path; the image is not
// requested again and nothing new starts. What the server sent is counted
// as spent.
func TestApplyLocalWriteErrors(t *testing.T) {
	tests := map[string]struct {
		// setup breaks the disk for image a (at a.png or sub/a.png).
		setup    func(t *testing.T, dir string, o *Options)
		path     string
		provider func(t *testing.T) func(context.Context, Request, io.Writer) error
		want     counts
		wantErr  []string
		errno    error
		// alone plans image a only: a commit gives its request slot back
		// before it places the file, so b may be in flight by then.
		alone bool
	}{
		"full disk while the body streams": {
			setup: func(t *testing.T, dir string, o *Options) {
				o.tempWriter = func(*os.File) io.Writer {
					return failingWriter{&os.PathError{Op: "write", Path: filepath.Join(dir, ".pixform-tmp-a.png-1"), Err: syscall.ENOSPC}}
				}
			},
			want:    counts{Failed: 1, Skipped: 2, Requests: 1, Credits: 15},
			wantErr: []string{"write a.png: no space left on device", "no more requests are paid for"},
			errno:   syscall.ENOSPC,
		},
		"read-only disk, provider swallows the write error": {
			setup: func(t *testing.T, dir string, o *Options) {
				o.tempWriter = func(*os.File) io.Writer { return failingWriter{syscall.EROFS} }
			},
			provider: func(t *testing.T) func(context.Context, Request, io.Writer) error {
				return func(_ context.Context, _ Request, w io.Writer) error {
					w.Write(pngOf(t, 8, 6, 1))
					return &Error{Class: Transient, Msg: "the connection broke"}
				}
			},
			want:    counts{Failed: 1, Skipped: 2, Requests: 1, Credits: 15},
			wantErr: []string{"write a.png: read-only file system"},
			errno:   syscall.EROFS,
		},
		"not writable": {
			setup: func(t *testing.T, dir string, o *Options) {
				o.tempWriter = func(*os.File) io.Writer { return failingWriter{syscall.EACCES} }
			},
			want:    counts{Failed: 1, Skipped: 2, Requests: 1, Credits: 15},
			wantErr: []string{"write a.png: permission denied"},
			errno:   syscall.EACCES,
		},
		"temporary file cannot be created: no request": {
			path: "sub/a.png",
			setup: func(t *testing.T, dir string, o *Options) {
				// The directory the image goes in is a regular file.
				if err := os.WriteFile(filepath.Join(dir, "sub"), []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			want:    counts{Failed: 1, Skipped: 2},
			wantErr: []string{"create the temporary file of sub/a.png", "not a directory"},
			errno:   syscall.ENOTDIR,
		},
		"file cannot be renamed into place": {
			setup: func(t *testing.T, dir string, o *Options) {
				// A non-empty directory is where the image goes.
				if err := os.MkdirAll(filepath.Join(dir, "a.png", "x"), 0o755); err != nil {
					t.Fatal(err)
				}
			},
			alone: true,
			want:  counts{Failed: 1, Requests: 1, Credits: 15},
			// rename(2) itself says what is in the way.
			wantErr: []string{"move into place a.png: is a directory"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			e.lim = newTestLimiter(1)
			render := renderPNG(t)
			if tc.provider != nil {
				render = tc.provider(t)
			}
			e.prov = &fakeProvider{render: render}
			path := tc.path
			if path == "" {
				path = "a.png"
			}
			changes := []planner.Change{create("a", path, 1), create("b", "b.png", 2), create("c", "c.png", 3)}
			if tc.alone {
				changes = changes[:1]
			}
			res, err := e.apply(t, context.Background(), false, changes, func(o *Options) {
				o.Parallelism = 1
				o.MaxRetries = 5
				tc.setup(t, e.dir, o)
			})
			if got := countsOf(res); got != tc.want {
				t.Errorf("counts = %+v, want %+v", got, tc.want)
			}
			if err == nil {
				t.Fatal("Apply succeeded")
			}
			var le *LocalError
			if !errors.As(res.Stopped, &le) {
				t.Errorf("Stopped = %v, want a *LocalError", res.Stopped)
			}
			if tc.errno != nil && !errors.Is(res.Stopped, tc.errno) {
				t.Errorf("Stopped = %v, want errno %v", res.Stopped, tc.errno)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), ".pixform-tmp-") {
				t.Errorf("error %q names the temporary file", err)
			}
			if n := e.prov.callsOf("image.a"); n != tc.want.Requests {
				t.Errorf("image.a requested %d times, want %d", n, tc.want.Requests)
			}
			for _, a := range []string{"image.b", "image.c"} {
				if n := e.prov.callsOf(a); n != 0 {
					t.Errorf("%s requested %d times after the stop", a, n)
				}
			}
			if lock := e.rec.snapshot(); len(lock) != 0 {
				t.Errorf("lockfile = %v, want empty", lock)
			}
			if e.hooks.count("retrying") != 0 {
				t.Errorf("a local error was retried: %v", e.hooks.events)
			}
		})
	}
}

// TestApplyLocalErrorInFlight: an image in flight when another image's
// write fails is kept and recorded; nothing new starts.
func TestApplyLocalErrorInFlight(t *testing.T) {
	e := newEnv(t)
	e.lim = newTestLimiter(2)
	aStarted, bFailed := make(chan struct{}), make(chan struct{})
	e.hooks.onFailed = func(c *planner.Change) {
		if c.Addr.Name == "b" {
			close(bFailed)
		}
	}
	e.prov = &fakeProvider{render: func(_ context.Context, req Request, w io.Writer) error {
		switch req.Addr.String() {
		case "image.a":
			// a is in flight before b's write fails, and finishes after.
			close(aStarted)
			<-bFailed
		case "image.b":
			<-aStarted
		}
		_, err := w.Write(pngOf(t, 8, 6, req.Seed))
		return err
	}}
	changes := []planner.Change{create("a", "a.png", 1), create("b", "b.png", 2), create("c", "c.png", 3)}
	res, err := e.apply(t, context.Background(), false, changes, func(o *Options) {
		o.Parallelism = 2
		o.tempWriter = func(f *os.File) io.Writer {
			if strings.Contains(f.Name(), "b.png") {
				return failingWriter{syscall.ENOSPC}
			}
			return f
		}
	})
	if err == nil || !errors.Is(res.Stopped, syscall.ENOSPC) {
		t.Fatalf("err %v, Stopped %v", err, res.Stopped)
	}
	want := counts{Generated: 1, Failed: 1, Skipped: 1, Requests: 2, Credits: 30}
	if got := countsOf(res); got != want {
		t.Errorf("counts = %+v, want %+v", got, want)
	}
	wantEntry(t, e, e.rec.snapshot(), "a", "a.png")
}

// TestApplyDraftSendsNoRequest: a draft render is made locally, so the
// result counts no request.
func TestApplyDraftSendsNoRequest(t *testing.T) {
	e := newEnv(t)
	e.prov = &fakeProvider{name: providers.Draft, render: renderPNG(t)}
	c := create("a", "a.png", 1)
	c.Requests, c.Credits = 0, 0
	res, err := e.apply(t, context.Background(), false, []planner.Change{c}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := (counts{Generated: 1}); countsOf(res) != want {
		t.Errorf("counts = %+v, want %+v", countsOf(res), want)
	}
}

// TestApplyHugeRetryAfter: a Retry-After longer than the throttling
// give-up is cut at the give-up, shown to the hooks as such, counts toward
// the give-up, and the run then stops without asking again.
func TestApplyHugeRetryAfter(t *testing.T) {
	const asked = 99999 * time.Second
	tests := map[string]struct {
		answers   []func(io.Writer) error
		want      counts
		wantWaits []time.Duration
		wantErr   string
		capped    []bool
	}{
		"a day-long Retry-After waits until the give-up, then stops": {
			answers:   []func(io.Writer) error{fails(Throttled, asked)},
			want:      counts{Skipped: 1, Requests: 1, Throttled: 1},
			wantWaits: []time.Duration{10 * time.Minute},
			wantErr:   "it last asked to wait 27h46m39s",
			capped:    []bool{true},
		},
		"waits already spent shorten the next": {
			answers:   []func(io.Writer) error{fails(Throttled, 4*time.Minute), fails(Throttled, 4*time.Minute), fails(Throttled, 4*time.Minute)},
			want:      counts{Skipped: 1, Requests: 3, Throttled: 3},
			wantWaits: []time.Duration{4 * time.Minute, 4 * time.Minute, 2 * time.Minute},
			wantErr:   "rate-limited every request for 10m0s",
			capped:    []bool{false, false, true},
		},
		"a success in time lets the request through": {
			answers:   []func(io.Writer) error{fails(Throttled, 9*time.Minute), ok(t)},
			want:      counts{Generated: 1, Requests: 2, Throttled: 1, Credits: 15},
			wantWaits: []time.Duration{9 * time.Minute},
			capped:    []bool{false},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			e.prov = &fakeProvider{render: script(t, tc.answers...)}
			res, err := e.apply(t, context.Background(), false, []planner.Change{create("a", "a.png", 1)}, nil)
			if got := countsOf(res); got != tc.want {
				t.Errorf("counts = %+v, want %+v", got, tc.want)
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Apply: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Apply error = %v, want it to contain %q", err, tc.wantErr)
			}
			if got := e.clock.waited(); !slices.Equal(got, tc.wantWaits) {
				t.Errorf("waits = %v, want %v", got, tc.wantWaits)
			}
			var capped []bool
			for _, th := range e.hooks.throttles {
				capped = append(capped, th.Capped())
				if th.GiveUp != DefaultThrottleGiveUp {
					t.Errorf("hook GiveUp = %v", th.GiveUp)
				}
			}
			if !slices.Equal(capped, tc.capped) {
				t.Errorf("hooks saw capped waits %v, want %v (%+v)", capped, tc.capped, e.hooks.throttles)
			}
		})
	}
}
