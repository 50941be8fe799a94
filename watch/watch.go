package watch

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultDebounce is how long the Watcher waits after the last relevant
// notification before it reports a change: long enough that one save (which
// an editor may do as several writes, or a write and a rename) is one event.
const DefaultDebounce = 100 * time.Millisecond

// tempPrefix marks pixform's temporary files (state.CreateTemp); events on
// them are never relevant.
const tempPrefix = ".pixform-tmp-"

// Event is one debounced batch of relevant changes.
type Event struct {
	// Config lists the configuration and variable files that were written,
	// created, removed or renamed, slash-separated and relative to the
	// working directory (absolute for a -var-file outside it), sorted.
	Config []string
	// Outputs lists output paths (or directories holding outputs) that were
	// removed or renamed away, relative to the working directory, sorted.
	Outputs []string
	// Err is set when notifications may have been lost (the kernel queue
	// overflowed, or the watcher failed): the caller should re-read
	// everything.
	Err error
}

// Files returns every path in the event, configuration first.
func (ev Event) Files() []string {
	return append(slices.Clone(ev.Config), ev.Outputs...)
}

// Options configure New.
type Options struct {
	// Dir is the working directory.
	Dir string
	// VarFiles are the -var-file paths, relative to Dir or absolute; they
	// are watched beside *.pix.hcl and *.pixvars.hcl.
	VarFiles []string
	// Debounce is the quiet period after the last notification before an
	// Event is delivered; zero means DefaultDebounce.
	Debounce time.Duration
	// After returns a channel that receives once d has passed; nil means
	// time.After. Tests inject it to drive the debounce by hand.
	After func(d time.Duration) <-chan time.Time
}

// Watcher watches a working directory. It owns one goroutine, which reads
// fsnotify's notifications, filters and debounces them, and delivers
// Events; Close stops it and waits for it.
type Watcher struct {
	fw       *fsnotify.Watcher
	dir      string
	debounce time.Duration
	after    func(time.Duration) <-chan time.Time
	events   chan Event
	quit     chan struct{}
	done     chan struct{}
	closed   sync.Once

	mu      sync.Mutex
	m       matcher
	watched map[string]bool // directories added to fw beyond the fixed ones
	fixed   map[string]bool // the working directory and var-file directories
}

// New starts watching opts.Dir and the directories of opts.VarFiles. Call
// SetOutputs to also watch the directories of the outputs.
func New(opts Options) (*Watcher, error) {
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", opts.Dir, err)
	}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch %s: start file notifications: %w (on Linux, raise fs.inotify.max_user_instances)", dir, err)
	}
	w := &Watcher{
		fw:       fw,
		dir:      dir,
		debounce: opts.Debounce,
		after:    opts.After,
		events:   make(chan Event),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
		m:        matcher{dir: dir, varFiles: map[string]bool{}, outputs: map[string]bool{}},
		watched:  map[string]bool{},
		fixed:    map[string]bool{dir: true},
	}
	if w.debounce <= 0 {
		w.debounce = DefaultDebounce
	}
	if w.after == nil {
		w.after = time.After
	}
	for _, vf := range opts.VarFiles {
		if !filepath.IsAbs(vf) {
			vf = filepath.Join(dir, vf)
		}
		vf = filepath.Clean(vf)
		w.m.varFiles[vf] = true
		w.fixed[filepath.Dir(vf)] = true
	}
	for d := range w.fixed {
		if err := fw.Add(d); err != nil {
			fw.Close()
			return nil, fmt.Errorf("watch directory %s: %w", d, err)
		}
	}
	go w.loop()
	return w, nil
}

// Events delivers one Event per debounced batch of changes. It is closed
// when the Watcher is closed.
func (w *Watcher) Events() <-chan Event { return w.events }

// SetOutputs replaces the set of output paths (slash-separated, relative to
// the working directory) whose removal is reported, and watches their
// directories: each output's directory, or its nearest existing ancestor
// inside the working directory when that does not exist yet. Call it after
// every plan, since paths change and directories come and go.
func (w *Watcher) SetOutputs(paths []string) error {
	outputs := make(map[string]bool, len(paths))
	want := map[string]bool{}
	for _, p := range paths {
		p = path.Clean(p)
		outputs[p] = true
		d := filepath.Dir(filepath.Join(w.dir, filepath.FromSlash(p)))
		for d != w.dir && strings.HasPrefix(d, w.dir+string(filepath.Separator)) {
			if fi, err := os.Stat(d); err == nil && fi.IsDir() {
				break
			}
			d = filepath.Dir(d)
		}
		if !w.fixed[d] {
			want[d] = true
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.m.outputs = outputs
	var errs []error
	for d := range want {
		if err := w.fw.Add(d); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("watch output directory %s: %w", d, err))
		}
	}
	for d := range w.watched {
		if !want[d] {
			w.fw.Remove(d) // it may be gone already; nothing to do then
		}
	}
	w.watched = want
	return errors.Join(errs...)
}

// Close stops watching, waits for the goroutine to end and closes Events.
func (w *Watcher) Close() error {
	var err error
	w.closed.Do(func() {
		close(w.quit)
		<-w.done
		err = w.fw.Close()
	})
	return err
}

// batch accumulates the relevant paths of one debounce period.
type batch struct {
	config, outputs map[string]bool
	err             error
}

func (b *batch) empty() bool { return len(b.config)+len(b.outputs) == 0 && b.err == nil }

func (b *batch) add(k kind, rel string) {
	switch k {
	case configFile:
		if b.config == nil {
			b.config = map[string]bool{}
		}
		b.config[rel] = true
	case outputGone:
		if b.outputs == nil {
			b.outputs = map[string]bool{}
		}
		b.outputs[rel] = true
	}
}

func (b *batch) merge(o *batch) {
	for p := range o.config {
		b.add(configFile, p)
	}
	for p := range o.outputs {
		b.add(outputGone, p)
	}
	if b.err == nil {
		b.err = o.err
	}
}

func (b *batch) event() Event {
	ev := Event{Err: b.err}
	for p := range b.config {
		ev.Config = append(ev.Config, p)
	}
	for p := range b.outputs {
		ev.Outputs = append(ev.Outputs, p)
	}
	slices.Sort(ev.Config)
	slices.Sort(ev.Outputs)
	return ev
}

// loop is the Watcher's goroutine. Relevant notifications go into pending
// and restart the debounce timer; when it fires, pending joins ready, which
// is offered on w.events until the caller takes it. Notifications that
// arrive while the caller is busy keep merging into ready, so nothing is
// lost and a busy caller gets one Event for everything that happened.
func (w *Watcher) loop() {
	defer close(w.done)
	defer close(w.events)
	var pending, ready batch
	var timer <-chan time.Time
	for {
		var send chan<- Event
		if !ready.empty() {
			send = w.events
		}
		select {
		case <-w.quit:
			return
		case ev, ok := <-w.fw.Events:
			if !ok {
				return
			}
			w.mu.Lock()
			k, rel := w.m.classify(ev)
			w.mu.Unlock()
			if k == irrelevant {
				continue
			}
			pending.add(k, rel)
			timer = w.after(w.debounce)
		case err, ok := <-w.fw.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				err = fmt.Errorf("file notifications overflowed; re-reading everything: %w", err)
			}
			if pending.err == nil {
				pending.err = err
			}
			timer = w.after(w.debounce)
		case <-timer:
			timer = nil
			ready.merge(&pending)
			pending = batch{}
		case send <- ready.event():
			ready = batch{}
		}
	}
}
