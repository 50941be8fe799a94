package watch

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/pixform/pixform/internal/safepath"
)

func TestClassify(t *testing.T) {
	dir := filepath.FromSlash("/w/site")
	m := matcher{
		dir:       dir,
		varFiles:  map[string]bool{filepath.FromSlash("/w/shared/prod.vars"): true, filepath.FromSlash("/w/site/vars/dev.hcl"): true},
		outputs:   map[string]bool{"images/hero.png": true, "assets/icons/home.png": true},
		inputs:    map[string]bool{"photos/shelf.jpg": true, "photos/shelf-mask.png": true, "logo.png": true, "scans/2026/box.png": true},
		inputWays: map[string]bool{"photos": true, "scans/2026": true, "scans": true},
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
		"source written":           {abs("photos/shelf.jpg"), fsnotify.Write, configFile, "photos/shelf.jpg"},
		"source saved by rename":   {abs("photos/shelf.jpg"), fsnotify.Create, configFile, "photos/shelf.jpg"},
		"mask removed":             {abs("photos/shelf-mask.png"), fsnotify.Remove, configFile, "photos/shelf-mask.png"},
		"source beside config":     {abs("logo.png"), fsnotify.Write, configFile, "logo.png"},
		"source directory renamed": {abs("photos"), fsnotify.Rename, configFile, "photos"},
		"other photo written":      {abs("photos/other.jpg"), fsnotify.Write, irrelevant, ""},
		"source chmod only":        {abs("photos/shelf.jpg"), fsnotify.Chmod, irrelevant, ""},
		"source temp file":         {abs("photos/.pixform-tmp-shelf.jpg-1"), fsnotify.Create, irrelevant, ""},
		"source directory made":    {abs("scans"), fsnotify.Create, configFile, "scans"},
		"deeper directory made":    {abs("scans/2026"), fsnotify.Create, configFile, "scans/2026"},
		"missing source created":   {abs("scans/2026/box.png"), fsnotify.Create, configFile, "scans/2026/box.png"},
		"other directory made":     {abs("scans/2025"), fsnotify.Create, irrelevant, ""},
		"source directory written": {abs("scans"), fsnotify.Write, irrelevant, ""},
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
	mu        sync.Mutex
	chans     []chan time.Time
	durations []time.Duration
	calls     chan struct{}
}

func newFakeAfter() *fakeAfter { return &fakeAfter{calls: make(chan struct{}, 100)} }

func (f *fakeAfter) after(d time.Duration) <-chan time.Time {
	c := make(chan time.Time, 1)
	f.mu.Lock()
	f.chans = append(f.chans, c)
	f.durations = append(f.durations, d)
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
	fa.fire(last) // the quiet time: without SetFast, wait on
	fa.waitCalls(t, 1)
	fa.fire(last + 1)
	ev := next(t, w)
	if ev.Early {
		t.Error("event delivered as Early without SetFast")
	}
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
		// assets/icons did not exist when SetOutputs ran; the next
		// plan's SetOutputs watches it.
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

// TestRewatch: an output directory that did not exist when SetOutputs ran
// (watch's first apply makes it) is watched once Rewatch has run, with no
// other SetOutputs: a file deleted by hand in it is reported.
func TestRewatch(t *testing.T) {
	dir := t.TempDir()
	w, err := New(Options{Dir: dir, Debounce: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.SetOutputs([]string{"images/a.png", "assets/icons/b.png"}); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "images/a.png"), "png")
	write(t, filepath.Join(dir, "assets/icons/b.png"), "png")
	if err := w.Rewatch(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"images/a.png", "assets/icons/b.png"} {
		if err := os.Remove(filepath.Join(dir, filepath.FromSlash(p))); err != nil {
			t.Fatal(err)
		}
		ev := next(t, w)
		if !slices.Equal(ev.Outputs, []string{p}) {
			t.Errorf("event = %+v, want %s", ev, p)
		}
	}
}

// TestReach: the directory watched for the files of a directory is the
// deepest one of its way that exists, reached with no symbolic link
// followed, whether the link leads out of the working directory or in.
func TestReach(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "photos", "masks"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(outside, "masks"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(root, "notadir"), "x")
	links := true
	if err := os.Symlink(outside, filepath.Join(root, "out")); err != nil {
		links = false // no symbolic links here (Windows without the right)
	} else if err := os.Symlink(filepath.Join(root, "photos"), filepath.Join(root, "photos", "in")); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		dir, want string
		link      bool
	}{
		"the working directory": {".", ".", false},
		"there":                 {"photos/masks", "photos/masks", false},
		"missing":               {"photos/masks/2026/may", "photos/masks", false},
		"missing from the top":  {"scans/2026", ".", false},
		"a file on the way":     {"notadir/masks", ".", false},
		"a link out":            {"out/masks", ".", true},
		"a link in":             {"photos/in/masks", "photos", true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if tt.link && !links {
				t.Skip("no symbolic links")
			}
			want := filepath.Join(root, filepath.FromSlash(tt.want))
			if got := reach(safepath.NewStats(root), root, tt.dir); got != want {
				t.Errorf("reach(%q) = %s, want %s", tt.dir, got, want)
			}
		})
	}
}

// TestMissingInputCreated: a source whose directory does not exist has
// the nearest directory of its way watched; the making of each directory
// on the way, and then of the file, is reported as a save, each seen once
// the previous plan (here SetInputs) has watched the directory made.
func TestMissingInputCreated(t *testing.T) {
	dir := t.TempDir()
	w, err := New(Options{Dir: dir, Debounce: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	inputs := []string{"photos/masks/mask.png"}
	for _, step := range []struct {
		make func(p string) error
		p    string
	}{
		{func(p string) error { return os.Mkdir(p, 0o755) }, "photos"},
		{func(p string) error { return os.Mkdir(p, 0o755) }, "photos/masks"},
		{func(p string) error { return os.WriteFile(p, []byte("png"), 0o644) }, "photos/masks/mask.png"},
	} {
		if err := w.SetInputs(inputs); err != nil {
			t.Fatal(err)
		}
		if err := step.make(filepath.Join(dir, filepath.FromSlash(step.p))); err != nil {
			t.Fatal(err)
		}
		if ev := next(t, w); !slices.Equal(ev.Config, []string{step.p}) {
			t.Errorf("event = %+v, want %s", ev, step.p)
		}
	}
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

// fastWatcher starts a Watcher with opts on a new directory whose
// main.pix.hcl holds a first configuration, with close notifications
// needed and the settled-save fast path on, and returns it with that
// file's path; it is closed when the test ends.
func fastWatcher(t *testing.T, opts Options) (*Watcher, string) {
	t.Helper()
	needCloses(t)
	opts.Dir = t.TempDir()
	cfg := filepath.Join(opts.Dir, "main.pix.hcl")
	write(t, cfg, "image \"a\" {\n  prompt = \"one\"\n}\n")
	w, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	w.SetFast(true)
	return w, cfg
}

// needCloses skips a test of the early delivery of a settled save where
// the system does not say when a writer closes a file.
func needCloses(t *testing.T) {
	t.Helper()
	if !closesSupported {
		t.Skip("no close-write notifications on " + runtime.GOOS + ": a save waits the full debounce here")
	}
}

// noEvent fails if the watcher delivers an event within d.
func noEvent(t *testing.T, w *Watcher, d time.Duration, why string) {
	t.Helper()
	select {
	case ev := <-w.Events():
		t.Fatalf("event %+v %s", ev, why)
	case <-time.After(d):
	}
}

// A save that was closed and lexes whole is delivered after a short quiet
// time, not the full debounce (a minute here, longer than next waits).
func TestSettledSaveCutsDebounce(t *testing.T) {
	w, cfg := fastWatcher(t, Options{Debounce: time.Minute})
	for i, save := range []func(){
		func() { write(t, cfg, "image \"a\" {\n  prompt = \"two\"\n}\n") },
		func() { place(t, cfg, "image \"a\" {\n  prompt = \"three\"\n}\n") },
	} {
		save()
		if ev := next(t, w); !slices.Equal(ev.Config, []string{"main.pix.hcl"}) || !ev.Early {
			t.Errorf("save %d: event = %+v, want main.pix.hcl, Early", i, ev)
		}
	}
}

// A save written in two pieces, the file held open between them, is not
// delivered while only the first piece is there, even though that piece
// is a whole configuration by itself.
func TestSaveInTwoPieces(t *testing.T) {
	w, cfg := fastWatcher(t, Options{Debounce: time.Minute})
	f, err := os.OpenFile(cfg, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	first := "image \"a\" {\n  prompt = \"two\"\n}\n"
	if _, err := f.WriteString(first); err != nil {
		t.Fatal(err)
	}
	noEvent(t, w, 20*DefaultQuiet, "while the writer still has the file open after its first piece")
	if _, err := f.WriteString("\nimage \"b\" {\n  prompt = \"new\"\n}\n"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, w); !slices.Equal(ev.Config, []string{"main.pix.hcl"}) {
		t.Errorf("event = %+v, want main.pix.hcl", ev)
	}
}

// A save that renames the file away before writing the new one (vim with
// a backup) is not delivered while the file is missing; it is once the
// new file is written and closed.
func TestRenameAwaySave(t *testing.T) {
	w, cfg := fastWatcher(t, Options{Debounce: time.Minute})
	if err := os.Rename(cfg, cfg+"~"); err != nil {
		t.Fatal(err)
	}
	noEvent(t, w, 20*DefaultQuiet, "while main.pix.hcl is missing in the middle of a save")
	write(t, cfg, "image \"a\" {\n  prompt = \"two\"\n}\n")
	if ev := next(t, w); !slices.Equal(ev.Config, []string{"main.pix.hcl"}) {
		t.Errorf("event = %+v, want main.pix.hcl", ev)
	}
}

// A save that does not lex whole waits the full debounce (it may be the
// first piece of a save), and is then delivered all the same, so that the
// plan reports its errors.
func TestUnfinishedSaveWaitsFullDebounce(t *testing.T) {
	dir := t.TempDir()
	fa := newFakeAfter()
	w, err := New(Options{Dir: dir, After: fa.after, Debounce: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	place(t, filepath.Join(dir, "main.pix.hcl"), "image \"a\" {\n  prompt = \"cut he")
	fa.waitCalls(t, 1)
	fa.fire(0) // the quiet time: the file is not whole, so wait on
	fa.waitCalls(t, 1)
	select {
	case ev := <-w.Events():
		t.Fatalf("event %+v after the quiet time, for a file that does not lex whole", ev)
	default:
	}
	fa.mu.Lock()
	d := fa.durations[1]
	fa.mu.Unlock()
	if want := time.Minute - DefaultQuiet; d != want {
		t.Errorf("second wait = %v, want the rest of the debounce, %v", d, want)
	}
	fa.fire(1)
	if ev := next(t, w); !slices.Equal(ev.Config, []string{"main.pix.hcl"}) {
		t.Errorf("event = %+v, want main.pix.hcl", ev)
	}
}

func TestWhole(t *testing.T) {
	for name, tc := range map[string]struct {
		src  string
		want bool
	}{
		"block":                {"image \"a\" {\n  prompt = \"x\"\n}\n", true},
		"two blocks":           {"image \"a\" {\n  prompt = \"x\"\n}\nimage \"b\" {\n  prompt = \"y\"\n}\n", true},
		"attributes only":      {"name = \"x\"\n", true},
		"template":             {"image \"a\" {\n  prompt = \"a ${var.x} b\"\n}\n", true},
		"heredoc":              {"image \"a\" {\n  prompt = <<EOT\nhello\nEOT\n}\n", true},
		"list and call":        {"x = toset([\"a\", \"b\"])\n", true},
		"empty":                {"", false},
		"only blank":           {"\n  \n", false},
		"cut in a block":       {"image \"a\" {\n  prompt = \"x\"\n", false},
		"cut in a string":      {"image \"a\" {\n  prompt = \"x y", false},
		"cut in a template":    {"image \"a\" {\n  prompt = \"a ${var.", false},
		"cut in a heredoc":     {"image \"a\" {\n  prompt = <<EOT\nhello\n", false},
		"cut in a list":        {"x = toset([\"a\", ", false},
		"semantic error is ok": {"image \"a\" {\n  seed = \"not a number\"\n}\n", true},
		"bad bytes":            {"image \"a\" {\n  prompt = \"\xff\"\n}\n", false},
	} {
		t.Run(name, func(t *testing.T) {
			if got := whole([]byte(tc.src)); got != tc.want {
				t.Errorf("whole(%q) = %v, want %v", tc.src, got, tc.want)
			}
		})
	}
}

// A notification that arrives after its save was taken (fsnotify read it
// late, under load), the file unchanged since, is not a new save: it is
// dropped rather than planned again.
func TestLateNotificationOfTakenSave(t *testing.T) {
	w, cfg := fastWatcher(t, Options{})
	write(t, cfg, "image \"a\" {\n  prompt = \"two\"\n}\n")
	if ev := next(t, w); !slices.Equal(ev.Config, []string{"main.pix.hcl"}) {
		t.Fatalf("event = %+v, want main.pix.hcl", ev)
	}
	w.fw.Events <- fsnotify.Event{Name: cfg, Op: fsnotify.Write}
	noEvent(t, w, 3*DefaultDebounce, "for a late notification of a save already taken")
	write(t, cfg, "image \"a\" {\n  prompt = \"three\"\n}\n")
	if ev := next(t, w); !slices.Equal(ev.Config, []string{"main.pix.hcl"}) {
		t.Errorf("event after the next save = %+v, want main.pix.hcl", ev)
	}
}

// A configuration name that is a FIFO is never read by the watcher (that
// would wait for a writer forever): its save waits the full debounce, and
// the plan says what is wrong with it.
func TestFIFOSaveIsNotRead(t *testing.T) {
	needCloses(t)
	dir := t.TempDir()
	w, err := New(Options{Dir: dir, Debounce: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.SetFast(true)
	cfg := filepath.Join(dir, "main.pix.hcl")
	if err := mkfifo(t, cfg, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	f, err := os.OpenFile(cfg, os.O_RDWR, 0) // does not wait for a reader
	if err != nil {
		t.Fatal(err)
	}
	f.Close() // a close of a file open for writing
	if ev := next(t, w); !slices.Equal(ev.Config, []string{"main.pix.hcl"}) {
		t.Errorf("event = %+v, want main.pix.hcl", ev)
	}
}

// A save of the same size as the save taken before it, its modification
// time set back to that save's (cp -p of a file saved in the same
// second), is a new save all the same: it is delivered, not dropped as a
// late notification of the save before.
func TestSameSizeAndTimeSaveIsDelivered(t *testing.T) {
	w, cfg := fastWatcher(t, Options{})
	at := time.Unix(1700000000, 0)
	for i, text := range []string{"image \"a\" {\n  prompt = \"111\"\n}\n", "image \"a\" {\n  prompt = \"222\"\n}\n"} {
		// As cp -p does: the times are set before the close.
		f, err := os.OpenFile(cfg, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(text); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(cfg, at, at); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if ev := next(t, w); !slices.Equal(ev.Config, []string{"main.pix.hcl"}) {
			t.Fatalf("save %d: event = %+v, want main.pix.hcl", i, ev)
		}
	}
}

// A writer that closes the file and at once opens it again to write the
// next save (O_TRUNC), whose first piece is whole by itself, has not
// settled while it holds the file open: the close of the save before does
// not count for the piece written after it.
func TestReopenAfterCloseIsNotSettled(t *testing.T) {
	fa := newFakeAfter()
	w, cfg := fastWatcher(t, Options{After: fa.after, Debounce: time.Minute})
	write(t, cfg, "image \"a\" {\n  prompt = \"two\"\n}\n")
	f, err := os.OpenFile(cfg, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("image \"a\" {\n  prompt = \"three\"\n}\n"); err != nil {
		t.Fatal(err)
	}
	// Every notification of the writes has reached the watcher when
	// the timers they started are asked for; the last is the quiet time.
	fa.waitCalls(t, 1)
	time.Sleep(50 * time.Millisecond) // let every notification arrive: not a timing assertion
	fa.mu.Lock()
	last := len(fa.chans) - 1
	fa.mu.Unlock()
	fa.fire(last)
	select {
	case ev := <-w.Events():
		t.Fatalf("event %+v after the quiet time, while the writer holds the file open after its first piece", ev)
	default:
	}
	// ... and it is not taken either when the close notifications are
	// read: the writer has not closed since.
	time.Sleep(20 * time.Millisecond)
	select {
	case ev := <-w.Events():
		t.Fatalf("event %+v while the writer holds the file open after its first piece", ev)
	default:
	}
}

// An Early event handed back (Again) is delivered again once the full
// debounce has passed, not Early, with the files changed since; a save
// that comes meanwhile waits the full debounce too, however whole.
func TestAgainWaitsFullDebounce(t *testing.T) {
	fa := newFakeAfter()
	w, cfg := fastWatcher(t, Options{After: fa.after, Debounce: time.Minute})
	place(t, cfg, "image \"a\" {\n  prompt = \"two\"\n}\n")
	fa.waitCalls(t, 1)
	fa.fire(0)
	ev := next(t, w)
	if !ev.Early || !slices.Equal(ev.Config, []string{"main.pix.hcl"}) {
		t.Fatalf("event = %+v, want main.pix.hcl, Early", ev)
	}
	w.Again(ev)
	fa.waitCalls(t, 1) // the rest of the debounce
	place(t, filepath.Join(filepath.Dir(cfg), "b.pix.hcl"), "image \"b\" {\n  prompt = \"x\"\n}\n")
	fa.waitCalls(t, 1) // b's quiet time
	fa.fire(2)
	fa.waitCalls(t, 1) // handed back: the rest of the debounce, settled or not
	select {
	case ev := <-w.Events():
		t.Fatalf("event %+v after the quiet time of a save handed back", ev)
	default:
	}
	fa.fire(3)
	ev = next(t, w)
	if ev.Early || !slices.Equal(ev.Config, []string{"b.pix.hcl", "main.pix.hcl"}) {
		t.Errorf("event = %+v, want b.pix.hcl and main.pix.hcl, not Early", ev)
	}
}

// BenchmarkSetOutputs10k: the output paths of a plan of 10,000 images in
// 10 directories, set after each plan of a watch session, then the
// Rewatch after its apply.
func BenchmarkSetOutputs10k(b *testing.B) {
	dir := b.TempDir()
	var paths []string
	for i := range 10000 {
		paths = append(paths, fmt.Sprintf("images/d%d/img-%d.png", i%10, i))
	}
	for i := range 10 {
		if err := os.MkdirAll(filepath.Join(dir, "images", fmt.Sprintf("d%d", i)), 0o755); err != nil {
			b.Fatal(err)
		}
	}
	w, err := New(Options{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	b.ResetTimer()
	for b.Loop() {
		if err := w.SetOutputs(paths); err != nil {
			b.Fatal(err)
		}
		if r, ok := any(w).(interface{ Rewatch() error }); ok {
			if err := r.Rewatch(); err != nil {
				b.Fatal(err)
			}
		}
	}
}
