package watch

import (
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

func TestClassify(t *testing.T) {
	dir := filepath.FromSlash("/w/site")
	m := matcher{
		dir:      dir,
		varFiles: map[string]bool{filepath.FromSlash("/w/shared/prod.vars"): true, filepath.FromSlash("/w/site/vars/dev.hcl"): true},
		outputs:  map[string]bool{"images/hero.png": true, "assets/icons/home.png": true},
	}
	abs := func(p string) string { return filepath.Join(dir, filepath.FromSlash(p)) }
	tests := map[string]struct {
		name    string
		op      fsnotify.Op
		want    kind
		wantRel string
	}{
		"config write":             {abs("main.pix.hcl"), fsnotify.Write, configFile, "main.pix.hcl"},
		"config created by rename": {abs("main.pix.hcl"), fsnotify.Create, configFile, "main.pix.hcl"},
		"config renamed away":      {abs("main.pix.hcl"), fsnotify.Rename, configFile, "main.pix.hcl"},
		"config removed":           {abs("old.pix.hcl"), fsnotify.Remove, configFile, "old.pix.hcl"},
		"vars file":                {abs("prod.pixvars.hcl"), fsnotify.Write, configFile, "prod.pixvars.hcl"},
		"var-file outside":         {filepath.FromSlash("/w/shared/prod.vars"), fsnotify.Write, configFile, "/w/shared/prod.vars"},
		"var-file in subdirectory": {abs("vars/dev.hcl"), fsnotify.Create, configFile, "vars/dev.hcl"},
		"chmod only":               {abs("main.pix.hcl"), fsnotify.Chmod, irrelevant, ""},
		"config in subdirectory":   {abs("sub/main.pix.hcl"), fsnotify.Write, irrelevant, ""},
		"vim swap file":            {abs(".main.pix.hcl.swp"), fsnotify.Write, irrelevant, ""},
		"vim backup file":          {abs("main.pix.hcl~"), fsnotify.Create, irrelevant, ""},
		"vim write test file":      {abs("4913"), fsnotify.Create, irrelevant, ""},
		"editor temp then rename":  {abs("main.pix.hcl.tmp.123"), fsnotify.Rename, irrelevant, ""},
		"pixform temp file":        {abs("images/.pixform-tmp-hero.png-123"), fsnotify.Rename, irrelevant, ""},
		"pixform temp lockfile":    {abs(".pixform-tmp-pixform.lock.json-9"), fsnotify.Create, irrelevant, ""},
		"lockfile write":           {abs("pixform.lock.json"), fsnotify.Create, irrelevant, ""},
		"output removed":           {abs("images/hero.png"), fsnotify.Remove, outputGone, "images/hero.png"},
		"output renamed away":      {abs("assets/icons/home.png"), fsnotify.Rename, outputGone, "assets/icons/home.png"},
		"output written by apply":  {abs("images/hero.png"), fsnotify.Create, irrelevant, ""},
		"output overwritten":       {abs("images/hero.png"), fsnotify.Write, irrelevant, ""},
		"output directory removed": {abs("assets"), fsnotify.Remove, outputGone, "assets"},
		"other file removed":       {abs("images/notes.txt"), fsnotify.Remove, irrelevant, ""},
		"sibling prefix directory": {abs("assets/icon"), fsnotify.Remove, irrelevant, ""},
		"outside the directory":    {filepath.FromSlash("/w/other/main.pix.hcl"), fsnotify.Write, irrelevant, ""},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, rel := m.classify(fsnotify.Event{Name: tt.name, Op: tt.op})
			if got != tt.want || rel != tt.wantRel {
				t.Errorf("classify(%s %s) = %d %q, want %d %q", tt.op, tt.name, got, rel, tt.want, tt.wantRel)
			}
		})
	}
}

func TestIsConfigName(t *testing.T) {
	tests := map[string]struct {
		name string
		want bool
	}{
		"config":      {"main.pix.hcl", true},
		"vars":        {"dev.pixvars.hcl", true},
		"plain hcl":   {"main.hcl", false},
		"hidden":      {".main.pix.hcl", false},
		"backup":      {"main.pix.hcl~", false},
		"swap":        {".main.pix.hcl.swp", false},
		"only suffix": {"pix.hcl", false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := IsConfigName(tt.name); got != tt.want {
				t.Errorf("IsConfigName(%q) = %v, want %v", tt.name, got, tt.want)
			}
		})
	}
}

// fakeAfter hands out debounce timers that the test fires by hand.
type fakeAfter struct {
	mu    sync.Mutex
	chans []chan time.Time
	calls chan struct{}
}

func newFakeAfter() *fakeAfter { return &fakeAfter{calls: make(chan struct{}, 100)} }

func (f *fakeAfter) after(time.Duration) <-chan time.Time {
	c := make(chan time.Time, 1)
	f.mu.Lock()
	f.chans = append(f.chans, c)
	f.mu.Unlock()
	f.calls <- struct{}{}
	return c
}

// fire fires timer i (0-based, in the order they were asked for).
func (f *fakeAfter) fire(i int) {
	f.mu.Lock()
	c := f.chans[i]
	f.mu.Unlock()
	c <- time.Now()
}

func (f *fakeAfter) waitCalls(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-f.calls:
		case <-time.After(10 * time.Second):
			t.Fatalf("the watcher did not see the expected notifications")
		}
	}
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// place writes path the way editors that save by rename do: one Create
// notification for path.
func place(t *testing.T, path, text string) {
	t.Helper()
	write(t, path+".tmp", text)
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}
}

func next(t *testing.T, w *Watcher) Event {
	t.Helper()
	select {
	case ev := <-w.Events():
		return ev
	case <-time.After(10 * time.Second):
		t.Fatalf("no event from the watcher")
	}
	return Event{}
}

// TestDebounce: notifications before the latest timer fires are one
// event; a stale timer firing does not deliver early.
func TestDebounce(t *testing.T) {
	dir := t.TempDir()
	fa := newFakeAfter()
	w, err := New(Options{Dir: dir, After: fa.after})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	// Renaming into place notifies exactly once, so each file is one
	// timer request.
	place(t, filepath.Join(dir, "a.pix.hcl"), "x")
	fa.waitCalls(t, 1)
	write(t, filepath.Join(dir, "notes.txt"), "ignored") // no timer for it
	place(t, filepath.Join(dir, "b.pix.hcl"), "y")
	fa.waitCalls(t, 1)
	fa.fire(0) // stale: the watcher now waits on a later timer
	select {
	case ev := <-w.Events():
		t.Fatalf("event before the latest debounce timer fired: %+v", ev)
	default:
	}
	fa.mu.Lock()
	last := len(fa.chans) - 1
	fa.mu.Unlock()
	fa.fire(last)
	ev := next(t, w)
	if want := []string{"a.pix.hcl", "b.pix.hcl"}; !slices.Equal(ev.Config, want) || len(ev.Outputs) != 0 {
		t.Errorf("event = %+v, want config %v and no outputs", ev, want)
	}
}

// TestSaves exercises real notifications with a short debounce: an
// in-place save, an editor's rename-style save, a hand-deleted output and
// pixform's own atomic output write.
func TestSaves(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "main.pix.hcl"), "a")
	write(t, filepath.Join(dir, "images/hero.png"), "png")
	w, err := New(Options{Dir: dir, Debounce: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.SetOutputs([]string{"images/hero.png", "assets/icons/home.png"}); err != nil {
		t.Fatal(err)
	}

	t.Run("in place", func(t *testing.T) {
		write(t, filepath.Join(dir, "main.pix.hcl"), "b")
		ev := next(t, w)
		if !slices.Equal(ev.Config, []string{"main.pix.hcl"}) {
			t.Errorf("event = %+v, want main.pix.hcl", ev)
		}
	})
	t.Run("rename style", func(t *testing.T) {
		tmp := filepath.Join(dir, "main.pix.hcl.tmp")
		write(t, tmp, "c")
		if err := os.Rename(tmp, filepath.Join(dir, "main.pix.hcl")); err != nil {
			t.Fatal(err)
		}
		ev := next(t, w)
		if !slices.Equal(ev.Config, []string{"main.pix.hcl"}) {
			t.Errorf("event = %+v, want main.pix.hcl", ev)
		}
	})
	t.Run("pixform's own write, then a hand delete", func(t *testing.T) {
		tmp := filepath.Join(dir, "images", ".pixform-tmp-hero.png-1")
		write(t, tmp, "png2")
		if err := os.Rename(tmp, filepath.Join(dir, "images/hero.png")); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(filepath.Join(dir, "images/hero.png")); err != nil {
			t.Fatal(err)
		}
		// The write is ignored, so the first event is the delete alone.
		ev := next(t, w)
		if !slices.Equal(ev.Outputs, []string{"images/hero.png"}) || len(ev.Config) != 0 {
			t.Errorf("event = %+v, want only the removed output", ev)
		}
	})
	t.Run("directory created later", func(t *testing.T) {
		// assets/icons did not exist when SetOutputs ran; after the run
		// that creates it, SetOutputs is called again.
		write(t, filepath.Join(dir, "assets/icons/home.png"), "png")
		if err := w.SetOutputs([]string{"images/hero.png", "assets/icons/home.png"}); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(filepath.Join(dir, "assets/icons/home.png")); err != nil {
			t.Fatal(err)
		}
		ev := next(t, w)
		if !slices.Equal(ev.Outputs, []string{"assets/icons/home.png"}) {
			t.Errorf("event = %+v, want assets/icons/home.png", ev)
		}
	})
}

func TestCloseEndsEvents(t *testing.T) {
	w, err := New(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-w.Events(); ok {
		t.Error("Events still open after Close")
	}
	w.Close() // a second Close is harmless
}
