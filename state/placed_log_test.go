package state

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pixform/pixform/addrs"
)

// killedJournal looks, at each lockfile write that records an image,
// whether a kill at that very moment (the image placed, not yet
// recorded, no End) leaves a file that the next run takes for the
// interrupted apply's leftover, judged as the next plan judges it
// (LeftBehind, against a lockfile that does not record it).
type killedJournal struct {
	t   *testing.T
	dir string

	mu      sync.Mutex
	refused []string // the paths whose file the next run would refuse
	judged  int
}

func (j *killedJournal) Record(_ context.Context, _ []addrs.Addr, sets map[addrs.Addr]Entry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, e := range sets {
		sum, ok := regularSHA256(filepath.Join(j.dir, filepath.FromSlash(e.Path)))
		if !ok {
			j.t.Errorf("recording %s, whose file is not in place", e.Path)
			continue
		}
		_, left, err := LeftBehind(j.dir, NewLock())
		if err != nil {
			j.t.Fatal(err)
		}
		j.judged++
		if !left.Holds(e.Path, sum) {
			j.refused = append(j.refused, e.Path)
		}
	}
	return nil
}
func (j *killedJournal) Snapshot() *Lock { return NewLock() }
func (j *killedJournal) Close() error    { return nil }

// An image placed and not in the content cache by then (a draft render,
// which is not cached; a local edit or a restore from the image store,
// committed without the cache; a run with no content cache; a move; one
// that takes over another entry's path) is noted, as placed at its path,
// in .pixform/placed.log before it is placed: a hard kill between placing
// it and recording it (kill -9, a lost terminal) leaves a file the next
// run takes for that apply's leftover, not for someone's. An image whose
// bytes are in the cache by then (a paid render, kept before it is
// placed; a restore from the cache) gets no such line: no write of its
// own.
func TestUncachedImagesNotedBeforePlacing(t *testing.T) {
	for name, tc := range map[string]struct {
		cache  bool // the Store has a content cache
		commit func(s *LocalStore, c *Commit)
		serial bool // another entry records the path first
		move   bool // a recorded image moved to a.png
		// cached puts the image's bytes in the content cache first (a
		// restore from it).
		cached  bool
		wantLog bool
	}{
		"draft render":                 {cache: true, commit: func(_ *LocalStore, c *Commit) {}, wantLog: true},
		"render with no content cache": {commit: func(_ *LocalStore, c *Commit) { c.Cache = true }, wantLog: true},
		"paid render":                  {cache: true, commit: func(_ *LocalStore, c *Commit) { c.Cache = true }},
		"restore from the cache":       {cache: true, cached: true, commit: func(_ *LocalStore, c *Commit) { c.Cached = true }},
		"draft over another's path":    {cache: true, serial: true, commit: func(_ *LocalStore, c *Commit) {}, wantLog: true},
		"paid over another's path":     {cache: true, serial: true, commit: func(_ *LocalStore, c *Commit) { c.Cache = true }},
		"move":                         {cache: true, move: true, wantLog: true},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			ctx := context.Background()
			lock := NewLock()
			other := entryN(9)
			other.Path, other.SHA256 = "a.png", sha("the other image")
			from := entryN(8)
			from.Path, from.SHA256 = "old.png", sha("the moved image")
			if tc.serial {
				lock.Images[addrs.MustParse("image.other")] = other
				if err := os.WriteFile(filepath.Join(dir, "a.png"), []byte("the other image"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tc.move {
				lock.Images[addrs.MustParse("image.m")] = from
				if err := os.WriteFile(filepath.Join(dir, "old.png"), []byte("the moved image"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			image := []byte("the image of a")
			e := entryN(1)
			e.Path, e.SHA256, e.Bytes = "a.png", sha(string(image)), int64(len(image))
			if tc.cached {
				src := filepath.Join(t.TempDir(), "a.png")
				if err := os.WriteFile(src, image, 0o644); err != nil {
					t.Fatal(err)
				}
				c := OpenCache(dir)
				if err := c.Put(e.Inputs.Digest(), e.Provider, src, e.SHA256); err != nil {
					t.Fatal(err)
				}
				c.Close()
			}
			var cache Putter
			if tc.cache {
				cache = OpenCache(dir)
			}
			j := &killedJournal{t: t, dir: dir}
			s := NewStore(dir, lock, j, cache)
			defer s.Close(ctx)
			if err := s.Begin(ctx, []string{"a.png"}, nil); err != nil {
				t.Fatal(err)
			}
			if tc.move {
				var merr error
				s.Move(ctx, []Move{{From: Prior{Addr: addrs.MustParse("image.m"), Entry: from}, To: addrs.MustParse("image.m"), Path: "a.png"}},
					func(_ int, err error, _ bool) { merr = err })
				if merr != nil {
					t.Fatal(merr)
				}
			} else {
				f, err := s.CreateTemp("a.png")
				if err != nil {
					t.Fatal(err)
				}
				if _, err := f.Write(image); err != nil {
					t.Fatal(err)
				}
				c := Commit{Addr: addrs.MustParse("image.a"), Entry: e, Temp: f}
				tc.commit(s, &c)
				if err := s.Commit(ctx, c); err != nil {
					t.Fatal(err)
				}
			}
			if j.judged == 0 {
				t.Fatal("no image was recorded")
			}
			if len(j.refused) > 0 {
				t.Errorf("a kill before the record leaves %v, which the next run refuses as someone's", j.refused)
			}
			_, err := os.Lstat(filepath.Join(dir, WorkDirName, placedLogName))
			if got := err == nil; got != tc.wantLog {
				t.Errorf("%s written: %v, want %v", placedLogName, got, tc.wantLog)
			}
		})
	}
}

// orderCache is a content cache that says whether the image it takes
// was already at its output path then.
type orderCache struct {
	*Cache
	path        string
	afterPlaced []string
}

func (c *orderCache) look(what string) {
	if _, err := os.Lstat(c.path); err == nil {
		c.afterPlaced = append(c.afterPlaced, what)
	}
}

func (c *orderCache) Put(digest, provider, src, sum string) error {
	c.look("Put")
	return c.Cache.Put(digest, provider, src, sum)
}

func (c *orderCache) Keep(digest, provider string, f *os.File, ext, sum string) error {
	c.look("Keep")
	return c.Cache.Keep(digest, provider, f, ext, sum)
}

// A commit that takes over another entry's path (commitSerial) keeps a
// paid render in the content cache before it places it, as any other
// commit does: a kill in between leaves a file of cached bytes.
func TestSerialCommitCachesBeforePlacing(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	lock := NewLock()
	other := entryN(9)
	other.Path, other.SHA256 = "a.png", sha("the other image")
	lock.Images[addrs.MustParse("image.other")] = other
	if err := os.WriteFile(filepath.Join(dir, "a.png"), []byte("the other image"), 0o644); err != nil {
		t.Fatal(err)
	}
	oc := &orderCache{Cache: OpenCache(dir), path: filepath.Join(dir, "a.png")}
	s := NewStore(dir, lock, &recordingJournal{}, oc)
	defer s.Close(ctx)
	if err := s.Begin(ctx, []string{"a.png"}, nil); err != nil {
		t.Fatal(err)
	}
	// The other image's file goes first (its entry deleted): only the
	// new one is then at a.png.
	if err := os.Remove(filepath.Join(dir, "a.png")); err != nil {
		t.Fatal(err)
	}
	image := []byte("the image of a")
	e := entryN(1)
	e.Path, e.SHA256, e.Bytes = "a.png", sha(string(image)), int64(len(image))
	f, err := s.CreateTemp("a.png")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(image); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, Commit{Addr: addrs.MustParse("image.a"), Entry: e, Temp: f, Cache: true}); err != nil {
		t.Fatal(err)
	}
	if len(oc.afterPlaced) > 0 {
		t.Errorf("cached after it was placed: %v", oc.afterPlaced)
	}
	if _, err := os.Lstat(filepath.Join(dir, WorkDirName, placedLogName)); err == nil {
		t.Errorf("%s written for a render kept in the cache", placedLogName)
	}
}

// The warning of a placing note that could not be trimmed says what a
// later apply does with a file at one of the paths it still names: it
// replaces it only while its bytes are an image pixform made, and
// refuses any other, so that nothing of the user's is at stake.
func TestTrimPlacingFailureWarning(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	s := NewStore(dir, NewLock(), &recordingJournal{}, nil)
	var warned []string
	s.Warn = func(path, msg string) { warned = append(warned, msg) }
	if err := s.Begin(ctx, []string{"a.png", "b.png"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.png"), []byte("placed, not recorded"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The note cannot be replaced: a directory stands at its name.
	p := filepath.Join(dir, WorkDirName, placingName)
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(p, 0o755); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := s.End(ctx); err != nil {
		t.Fatal(err)
	}
	s.Close(context.Background())
	if len(warned) != 1 {
		t.Fatalf("warnings %q, want one", warned)
	}
	for _, want := range []string{"could not rewrite", "only while its bytes are an image pixform made", "refuses any other"} {
		if !strings.Contains(warned[0], want) {
			t.Errorf("warning %q lacks %q", warned[0], want)
		}
	}
	if strings.Contains(warned[0], "move any file of yours") {
		t.Errorf("warning %q still says to move the user's files away", warned[0])
	}
}

// A note under .pixform larger than any pixform writes (maxNoteSize) is
// ignored, as one from another checkout is: the placing note names no
// path, and the removals note notes no removal.
func TestNotesOverTheCapIgnored(t *testing.T) {
	defer func(n int) { maxNoteSize = n }(maxNoteSize)
	maxNoteSize = 1 << 20
	dir := t.TempDir()
	ctx := context.Background()
	if err := os.WriteFile(filepath.Join(dir, "old.png"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := NewStore(dir, NewLock(), &recordingJournal{}, nil)
	if err := s.Begin(ctx, []string{"a.png"}, []Removal{{Path: "old.png", SHA256: sha("old")}}); err != nil {
		t.Fatal(err)
	}
	if !notedPaths(dir)["a.png"] {
		t.Fatal("the note does not name a.png")
	}
	if rs, err := readRemovals(dir); err != nil || len(rs) != 1 {
		t.Fatalf("removals %v (%v), want old.png", rs, err)
	}
	// Each note made larger than the cap, still this checkout's and
	// still valid JSON: a long path after those it names.
	pad := strings.Repeat("x", maxNoteSize)
	for _, name := range []string{placingName, removalsName} {
		p := filepath.Join(dir, WorkDirName, name)
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		s := string(data)
		i := strings.Index(s, `"paths": [`)
		if name == removalsName {
			i = strings.Index(s, `"removals": [`)
		}
		if i < 0 {
			t.Fatalf("%s: %s", name, data)
		}
		if name == placingName {
			s = strings.Replace(s, `"paths": [`, `"paths": ["`+pad+`", `, 1)
		} else {
			s = strings.Replace(s, `"removals": [`, `"removals": [{"path": "`+pad+`", "sha256": "`+sha("x")+`"}, `, 1)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if notedPaths(dir)["a.png"] {
		t.Error("a placing note over the cap names a.png")
	}
	if rs, err := readRemovals(dir); err != nil || len(rs) != 0 {
		t.Errorf("removals %d (%v), want none from a note over the cap", len(rs), err)
	}
}

// decodePlacing takes a note as readNote took it (unknown fields
// refused), the tie checked as it comes.
func TestDecodePlacing(t *testing.T) {
	id := fileID{Dev: 1, Ino: 2}
	for note, want := range map[string]bool{
		`{"version":1,"dir":{"dev":1,"ino":2},"paths":["a.png"]}`:                        true,
		`{"paths":["a.png"],"dir":{"dev":1,"ino":2},"version":1}`:                        true,
		`{"version":1,"dir":{"dev":1,"ino":2},"paths":["a.png"],"placed":{"a.png":"x"}}`: true,
		`{"version":1,"dir":{"dev":1,"ino":3},"paths":["a.png"]}`:                        false,
		`{"version":2,"dir":{"dev":1,"ino":2},"paths":["a.png"]}`:                        false,
		`{"dir":{"dev":1,"ino":2},"paths":["a.png"]}`:                                    false,
		`{"version":1,"paths":["a.png"]}`:                                                false,
		`{"version":1,"dir":{"dev":1,"ino":2},"paths":["a.png"],"other":1}`:              false,
		`{"version":1,"dir":{"dev":1,"ino":2,"x":1},"paths":["a.png"]}`:                  false,
		`{"version":1,"dir":{"dev":1,"ino":2},"paths":["a.png"]`:                         false,
		`["version"]`: false,
		``:            false,
	} {
		if _, got := decodePlacing([]byte(note), id); got != want {
			t.Errorf("decodePlacing(%s) = %v, want %v", note, got, want)
		}
	}
}

// The log counts only whole lines ("<sha256> <path>\n") at the paths the
// placing note names: a line cut short (the last, with no newline), a
// garbled one, or one at a path not noted counts for nothing. A run that
// appends to a log cut short starts its line on a line of its own. A log
// found with no placing note of this checkout's is dropped by Begin.
func TestPlacedLogLines(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s := NewStore(dir, NewLock(), &recordingJournal{}, nil)
	if err := s.Begin(ctx, []string{"a.png", "b.png", "c.png", "d.png"}, nil); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, WorkDirName, placedLogName)
	body := sha("a") + " a.png\n" +
		"zz" + sha("b")[2:] + " b.png\n" + // not a hash
		sha("b") + "b.png\n" + // no space
		sha("x") + " x.png\n" + // not noted
		sha("c") + " c.p" // cut short
	if err := os.WriteFile(logPath, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	_, left, err := LeftBehind(dir, NewLock())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path, sum string
		want      bool
	}{
		{"a.png", sha("a"), true},
		{"A.PNG", sha("a"), true}, // compared case-folded, as every path
		{"a.png", sha("b"), false},
		{"b.png", sha("b"), false},
		{"c.png", sha("c"), false},
		{"c.p", sha("c"), false},
		{"x.png", sha("x"), false},
	} {
		if got := left.Holds(tc.path, tc.sum); got != tc.want {
			t.Errorf("Holds(%s, %.8s) = %v, want %v", tc.path, tc.sum, got, tc.want)
		}
	}
	// The next line appended stands alone.
	s.notePlaced("d.png", sha("d"))
	s.plog.close()
	_, left, err = LeftBehind(dir, NewLock())
	if err != nil {
		t.Fatal(err)
	}
	if !left.Holds("d.png", sha("d")) || !left.Holds("a.png", sha("a")) {
		t.Errorf("after an append to a log cut short: Holds(d.png) %v, Holds(a.png) %v, want both", left.Holds("d.png", sha("d")), left.Holds("a.png", sha("a")))
	}
	// No note: Begin drops the log.
	if err := clearPlacing(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(logPath, []byte(sha("a")+" a.png\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s2 := NewStore(dir, NewLock(), &recordingJournal{}, nil)
	defer s2.Close(ctx)
	if err := s2.Begin(ctx, []string{"a.png"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(logPath); err == nil {
		t.Error("a log found with no placing note is kept")
	}
	_, left, err = LeftBehind(dir, NewLock())
	if err != nil {
		t.Fatal(err)
	}
	if left.Holds("a.png", sha("a")) {
		t.Error("a line of a log found with no placing note counts")
	}
}
