package state

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pixform/pixform/addrs"
)

// pngBytes is a whole 8×6 PNG.
var pngBytes = func() []byte {
	m := image.NewNRGBA(image.Rect(0, 0, 8, 6))
	for i := range m.Pix {
		m.Pix[i] = byte(i * 7)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		panic(err)
	}
	return b.Bytes()
}()

// putBackEntry is the entry of image.a recording b at rel, an 8×6 PNG.
func putBackEntry(rel string, b []byte) Entry {
	e := entryN(1)
	e.Path = rel
	sum := sha256.Sum256(b)
	e.SHA256 = hex.EncodeToString(sum[:])
	e.Bytes = int64(len(b))
	e.MediaType = "image/png"
	e.Width, e.Height = 8, 6
	return e
}

// fillWith is a PutBack.Fill giving b.
func fillWith(b []byte) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	}
}

// Putting back a recorded image writes its bytes at its path and nothing
// else: no lockfile write, no temporary file left; bytes that are not the
// entry's (changed, cut short, too long, of another format than the
// lockfile says) or a failing source leave nothing at the path or beside
// it. Both ways of making the file are covered: an unnamed file
// (O_TMPFILE) and a named temporary one.
func TestPutBack(t *testing.T) {
	a := addrs.MustParse("image.a")
	flipped := bytes.Clone(pngBytes)
	flipped[len(flipped)/2] ^= 0xff
	notPNG := bytes.Repeat([]byte("x"), len(pngBytes))
	pngHeadOnly := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte("pixels"), 100)...)
	tests := map[string]struct {
		rel     string
		record  []byte                        // the entry records these bytes (default pngBytes)
		entry   func(*Entry)                  // changes the recorded facts
		accept  func(width, height int) error // PutBack.Accept
		before  string                        // the file at the path before ("" none; "link" a symbolic link)
		fill    func(io.Writer) error
		wantErr string // "" success
	}{
		"missing file":              {rel: "img.png", fill: fillWith(pngBytes)},
		"missing directories":       {rel: "a/b/img.png", fill: fillWith(pngBytes)},
		"file changed by hand":      {rel: "img.png", before: "edited", fill: fillWith(pngBytes)},
		"symbolic link at the path": {rel: "img.png", before: "link", fill: fillWith(pngBytes)},
		"a byte changed":            {rel: "img.png", fill: fillWith(flipped), wantErr: "hash to"},
		"cut short":                 {rel: "img.png", fill: fillWith(pngBytes[:10]), wantErr: "its 10 bytes hash to"},
		"too long":                  {rel: "img.png", fill: fillWith(append(bytes.Clone(pngBytes), 'x')), wantErr: "more than the"},
		"source fails midway": {rel: "img.png", fill: func(w io.Writer) error {
			w.Write(pngBytes[:20])
			return errors.New("network down")
		}, wantErr: "network down"},
		"lockfile says PNG, bytes are not":  {rel: "img.png", record: notPNG, fill: fillWith(notPNG), wantErr: "are not a whole image"},
		"bytes only start like a PNG":       {rel: "img.png", record: pngHeadOnly, fill: fillWith(pngHeadOnly), wantErr: "are not a whole image"},
		"a PNG cut short, recorded so":      {rel: "img.png", record: pngBytes[:len(pngBytes)-4], fill: fillWith(pngBytes[:len(pngBytes)-4]), wantErr: "are not a whole image"},
		"lockfile records other dimensions": {rel: "img.png", entry: func(e *Entry) { e.Width = 6 }, fill: fillWith(pngBytes), wantErr: "records its bytes as a 6×6 image/png, but they are a 8×6 image/png"},
		"lockfile records a JPEG":           {rel: "img.png", entry: func(e *Entry) { e.MediaType = "image/jpeg" }, fill: fillWith(pngBytes), wantErr: "but they are a 8×6 image/png"},
		"refused by Accept": {rel: "img.png", fill: fillWith(pngBytes), accept: func(w, h int) error {
			return fmt.Errorf("it is %d×%d pixels, too many", w, h)
		}, wantErr: "it is 8×6 pixels, too many"},
	}
	for _, unnamed := range []bool{true, false} {
		for name, tc := range tests {
			t.Run(map[bool]string{true: "unnamed/", false: "named/"}[unnamed]+name, func(t *testing.T) {
				dir := t.TempDir()
				record := tc.record
				if record == nil {
					record = pngBytes
				}
				e := putBackEntry(tc.rel, record)
				if tc.entry != nil {
					tc.entry(&e)
				}
				lock := NewLock()
				lock.Images[a] = e
				writes := 0
				r := newRecorder(filepath.Join(dir, LockFileName), lock, func(path string, data []byte) error {
					writes++
					return WriteFileAtomic(path, data)
				})
				s := NewStore(dir, lock, r, nil)
				s.noUnnamed.Store(!unnamed)
				target := filepath.Join(dir, filepath.FromSlash(tc.rel))
				outside := filepath.Join(t.TempDir(), "outside.png")
				switch tc.before {
				case "":
				case "link":
					if err := os.WriteFile(outside, []byte("theirs"), 0o644); err != nil {
						t.Fatal(err)
					}
					if err := os.Symlink(outside, target); err != nil {
						t.Fatal(err)
					}
				default:
					if err := os.WriteFile(target, []byte(tc.before), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				err := s.PutBack(context.Background(), PutBack{Addr: a, Entry: e, Fill: tc.fill, Accept: tc.accept})
				if endErr := s.End(context.Background()); endErr != nil {
					t.Errorf("End: %v", endErr)
				}
				if cerr := s.Close(context.Background()); cerr != nil {
					t.Fatal(cerr)
				}
				if writes != 0 {
					t.Errorf("%d lockfile writes, want none", writes)
				}
				got, rerr := os.ReadFile(target)
				if tc.wantErr == "" {
					if err != nil {
						t.Fatalf("PutBack: %v", err)
					}
					if rerr != nil || !bytes.Equal(got, pngBytes) {
						t.Fatalf("the path holds %q (%v), want the recorded bytes", got, rerr)
					}
					if fi, err := os.Lstat(target); err != nil || fi.Mode() != 0o644 {
						t.Errorf("the file is %v (%v), want a regular file, mode 0644", fi.Mode(), err)
					}
				} else {
					var fe *FillError
					if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.wantErr) {
						t.Fatalf("PutBack = %v, want a *FillError saying %q", err, tc.wantErr)
					}
					switch tc.before {
					case "":
						if rerr == nil {
							t.Errorf("the path holds %q after a failure, want nothing", got)
						}
					case "link":
						if l, err := os.Readlink(target); err != nil || l != outside {
							t.Errorf("the link at the path is gone after a failure (%q, %v)", l, err)
						}
					default:
						if string(got) != tc.before {
							t.Errorf("the path holds %q after a failure, want %q as before", got, tc.before)
						}
					}
				}
				if tc.before == "link" {
					if b, err := os.ReadFile(outside); err != nil || string(b) != "theirs" {
						t.Errorf("the link's target holds %q (%v): written through the link", b, err)
					}
				}
				ents, err := os.ReadDir(filepath.Dir(target))
				if err != nil && tc.wantErr == "" {
					t.Fatal(err)
				}
				for _, de := range ents {
					if IsTemp(de.Name()) {
						t.Errorf("temporary file %s left beside the path", de.Name())
					}
				}
			})
		}
	}
}

// A PutBack of an entry the lockfile does not record as it is (another
// change took the path, or the entry changed) does nothing and says so:
// the caller commits the image the common way.
func TestPutBackOfAnEntryNotRecordedAsIs(t *testing.T) {
	a, b := addrs.MustParse("image.a"), addrs.MustParse("image.b")
	e := putBackEntry("img.png", pngBytes)
	other := e
	other.Inputs.Prompt = "another prompt"
	tests := map[string]struct {
		recorded map[addrs.Addr]Entry
	}{
		"not recorded":                 {map[addrs.Addr]Entry{}},
		"recorded with other inputs":   {map[addrs.Addr]Entry{a: other}},
		"its path recorded by another": {map[addrs.Addr]Entry{b: e}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			lock := NewLock()
			for k, v := range tc.recorded {
				lock.Images[k] = v
			}
			s := NewStore(dir, lock, newRecorder(filepath.Join(dir, LockFileName), lock, WriteFileAtomic), nil)
			defer s.Close(context.Background())
			called := false
			err := s.PutBack(context.Background(), PutBack{Addr: a, Entry: e, Fill: func(io.Writer) error {
				called = true
				return nil
			}})
			if !errors.Is(err, ErrNotRecorded) {
				t.Fatalf("PutBack = %v, want ErrNotRecorded", err)
			}
			if called {
				t.Error("the source was read")
			}
			if _, err := os.Lstat(filepath.Join(dir, "img.png")); err == nil {
				t.Error("a file was placed")
			}
		})
	}
}

// The unnamed file that a put-back writes into is gone once the put-back
// failed, and no descriptor stays open.
func TestPutBackUnnamedFileVanishes(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("unnamed files are made on Linux only")
	}
	dir := t.TempDir()
	a := addrs.MustParse("image.a")
	e := putBackEntry("img.png", pngBytes)
	lock := NewLock()
	lock.Images[a] = e
	s := NewStore(dir, lock, newRecorder(filepath.Join(dir, LockFileName), lock, WriteFileAtomic), nil)
	defer s.Close(context.Background())
	before := openFDs(t)
	var name string
	err := s.PutBack(context.Background(), PutBack{Addr: a, Entry: e, Fill: func(w io.Writer) error {
		name = w.(*checkedWriter).f.Name()
		return errors.New("store down")
	}})
	if err == nil {
		t.Fatal("PutBack succeeded")
	}
	if unnamed, _ := unnamedTemp(name); !unnamed {
		t.Errorf("wrote into %s, not an unnamed file", name)
	}
	// The Store holds its output directories open until it is closed.
	s.Close(context.Background())
	if after := openFDs(t); after != before {
		t.Errorf("%d open descriptors after, %d before", after, before)
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}

// A cancelled run (a second Ctrl-C) still makes the images it put back
// durable before it ends: their entries claim them already.
func TestPutBackSyncedOnCancelledEnd(t *testing.T) {
	a := addrs.MustParse("image.a")
	dir := t.TempDir()
	e := putBackEntry("img.png", pngBytes)
	lock := NewLock()
	lock.Images[a] = e
	r := newRecorder(filepath.Join(dir, LockFileName), lock, func(path string, data []byte) error { return WriteFileAtomic(path, data) })
	s := NewStore(dir, lock, r, nil)
	if err := s.PutBack(context.Background(), PutBack{Addr: a, Entry: e, Fill: fillWith(pngBytes)}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.End(ctx); err != nil {
		t.Errorf("End: %v", err)
	}
	if s.batch && s.putBacks.Load() {
		t.Error("End of a cancelled run left the put-back files unsynced")
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// A file that cannot be made in directories made for it (an unnamed file
// where the file system has none, before the named fallback) leaves the
// directories noted: End removes them once empty.
func TestCreateBesideNotesDirsOnFailure(t *testing.T) {
	dir := t.TempDir()
	lock := NewLock()
	r := newRecorder(filepath.Join(dir, LockFileName), lock, func(path string, data []byte) error { return WriteFileAtomic(path, data) })
	s := NewStore(dir, lock, r, nil)
	if err := s.Begin(context.Background(), nil, nil); err != nil {
		t.Fatal(err)
	}
	_, err := s.createBeside("a/b/img.png", func(target string) (*os.File, error) {
		if _, err := os.Lstat(filepath.Dir(target)); err != nil {
			return nil, err
		}
		return nil, errNoUnnamed
	})
	if !errors.Is(err, errNoUnnamed) {
		t.Fatalf("createBeside = %v, want errNoUnnamed", err)
	}
	if err := s.End(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "a")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the directories made for the file are left (%v)", err)
	}
}

// TestPutBacksShareTheIndex: a put-back only reads the Store's index, so
// put-backs running at once do not wait for each other there: one
// proceeds while another reader holds the index.
func TestPutBacksShareTheIndex(t *testing.T) {
	dir := t.TempDir()
	a := addrs.MustParse("image.a")
	e := putBackEntry("img.png", pngBytes)
	lock := NewLock()
	lock.Images[a] = e
	s := NewStore(dir, lock, nopJournal{}, nil)
	s.idx.mu.RLock() // another put-back, reading
	done := make(chan error, 1)
	go func() { done <- s.PutBack(context.Background(), PutBack{Addr: a, Entry: e, Fill: fillWith(pngBytes)}) }()
	select {
	case err := <-done:
		s.idx.mu.RUnlock()
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute): // a hang guard, not a timing
		s.idx.mu.RUnlock()
		t.Fatal("PutBack waited for another reader of the index")
	}
	if err := s.End(context.Background()); err != nil {
		t.Fatal(err)
	}
}
