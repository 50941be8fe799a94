package storesync

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pixform/pixform/addrs"
	"github.com/pixform/pixform/state"
)

// swapRemote is a fakeRemote whose Get, before it writes a byte (or
// fails with fail), calls swap with the file it writes to: the test's
// moment to change the working directory under a download.
type swapRemote struct {
	*fakeRemote
	swap func(w io.Writer)
	fail error
}

func (r *swapRemote) Get(ctx context.Context, sum string, w io.Writer, max int64) error {
	if r.swap != nil {
		r.swap(w)
	}
	if r.fail != nil {
		return r.fail
	}
	return r.fakeRemote.Get(ctx, sum, w, max)
}

// swapped is a working directory whose output directory out/ a download
// finds moved outside it (mv out ../archive), with a symbolic link put
// at its path, to archive itself or to another directory outside,
// other, which holds files of its own: a.png, and a file of the very
// name of the download's temporary file.
type swapped struct {
	dir, out, archive, other string
	// to is where the link at out/ leads: archive or other.
	to string
	// theirs are other's files and their bytes: not pixform's.
	theirs map[string]string
}

func newSwapped(t *testing.T, toArchive bool) *swapped {
	t.Helper()
	root := t.TempDir()
	w := &swapped{dir: filepath.Join(root, "work"), archive: filepath.Join(root, "archive"), other: filepath.Join(root, "other"), theirs: map[string]string{}}
	w.out = filepath.Join(w.dir, "out")
	w.to = w.other
	if toArchive {
		w.to = w.archive
	}
	for _, d := range []string{w.out, w.other} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	w.put(t, "a.png", "their a.png")
	return w
}

// put writes a file of other's, not pixform's.
func (w *swapped) put(t *testing.T, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(w.other, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	w.theirs[name] = body
}

// swap moves out/ to archive and puts the link at its path; tmp is what
// the download writes to. other gets a file of the name of each
// temporary file in out/, and of tmp's name (an unnamed file has one in
// messages only).
func (w *swapped) swap(t *testing.T, tmp io.Writer) {
	if f, ok := tmp.(*os.File); ok {
		w.put(t, filepath.Base(f.Name()), "not pixform's")
	}
	des, err := os.ReadDir(w.out)
	if err != nil {
		t.Error(err)
	}
	for _, de := range des {
		if state.IsTemp(de.Name()) {
			w.put(t, de.Name(), "not pixform's")
		}
	}
	if err := os.Rename(w.out, w.archive); err != nil {
		t.Error(err)
	}
	if err := os.Symlink(w.to, w.out); err != nil {
		t.Error(err)
	}
}

// untouched fails the test if anything outside the working directory
// was written, replaced or removed: other holds its files as they were,
// and archive (out/ as the download left it) nothing.
func (w *swapped) untouched(t *testing.T) {
	t.Helper()
	for name, body := range w.theirs {
		if b, err := os.ReadFile(filepath.Join(w.other, name)); err != nil || string(b) != body {
			t.Errorf("%s, outside the working directory, was removed or changed: %q, %v", filepath.Join(w.other, name), b, err)
		}
	}
	des, err := os.ReadDir(w.other)
	if err != nil || len(des) != len(w.theirs) {
		t.Errorf("%s, outside the working directory, holds %d files, want its own %d: %v", w.other, len(des), len(w.theirs), err)
	}
	des, err = os.ReadDir(w.archive)
	if err != nil || len(des) != 0 {
		var names []string
		for _, de := range des {
			names = append(names, de.Name())
		}
		t.Errorf("%s, where out/ was moved outside the working directory, holds %q, want nothing: %v", w.archive, names, err)
	}
}

// A pull whose output directory is moved outside the working directory
// and replaced by a symbolic link while a file downloads writes nothing
// outside: the file is not placed through the link (into the directory
// moved away, or over a file of another directory), no file of the
// temporary file's name there is renamed or removed, and the error says
// what happened, where and what to do.
func TestPullDirSwappedForLink(t *testing.T) {
	data := pngOf(t, 0)
	errDown := errors.New("the store went down")
	for _, tc := range []struct {
		name      string
		toArchive bool
		fail      error
	}{
		{name: "link to the directory moved away", toArchive: true},
		{name: "link to another directory"},
		{name: "link to another directory, download fails", fail: errDown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newSwapped(t, tc.toArchive)
			r := &swapRemote{fakeRemote: newFake(), fail: tc.fail}
			r.objects[sum(data)] = data
			r.swap = func(tmp io.Writer) { w.swap(t, tmp) }
			lock := state.NewLock()
			a := addrs.MustParse("image.a")
			lock.Images[a] = pngEntry("out/a.png", data)
			s, err := New(w.dir, r, 1)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := s.Pull(context.Background(), localStore(t, w.dir), lock, nil, nil)
			w.untouched(t)
			if rep.Done != 0 || rep.Failed != 1 {
				t.Errorf("Pull's report %+v, want one failure", rep)
			}
			if tc.fail != nil {
				if !errors.Is(err, tc.fail) {
					t.Errorf("Pull: %v, want the store's error", err)
				}
				return
			}
			t.Logf("Pull: %v", err)
			var pe *PlaceError
			if !errors.As(err, &pe) || pe.Path != "out/a.png" {
				t.Fatalf("Pull: %v, want a PlaceError for out/a.png", err)
			}
			for _, want := range []string{"out/a.png", "symbolic link", "nothing was written there", "run the command again"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Pull's error %q does not say %q", err, want)
				}
			}
		})
	}
}

// A take fetched while the output directory it is downloaded beside is
// moved outside the working directory and replaced by a symbolic link to
// another directory goes into the content cache with its own bytes, not
// those of a file of its temporary file's name there, which stays.
func TestFetchTakeDirSwappedForLink(t *testing.T) {
	one, two := []byte("take one"), []byte("take two")
	e := takesEntry(one, two)
	e.Path = "out/a.png"
	w := newSwapped(t, false)
	r := &swapRemote{fakeRemote: newFake()}
	r.objects[sum(two)] = two
	r.swap = func(tmp io.Writer) { w.swap(t, tmp) }
	s, err := New(w.dir, r, 1)
	if err != nil {
		t.Fatal(err)
	}
	cache := state.OpenCache(w.dir)
	ferr := s.FetchTake(context.Background(), localStore(t, w.dir), cache, addrs.Addr{}, e, 2)
	w.untouched(t)
	if ferr != nil {
		return // nothing kept: nothing to check in the cache
	}
	rc, err := cache.Open(e.Inputs.Take(e.Takes[1].Seed).Digest(), e.Provider)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if b, err := io.ReadAll(rc); err != nil || !bytes.Equal(b, two) {
		t.Errorf("the content cache keeps %q for take 2, want %q: %v", b, two, err)
	}
}

// localStore is the Store of dir, as the command line opens one for a
// pull or a pick, closed when the test ends.
func localStore(t *testing.T, dir string) *state.LocalStore {
	t.Helper()
	st := state.OpenStore(dir, state.NewLock(), nil)
	t.Cleanup(func() {
		if err := st.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return st
}
