package watch

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/pixform/pixform/internal/safepath"
)

// DefaultDebounce is how long the Watcher waits after the last relevant
// notification before it reports a change: long enough that one save (which
// an editor may do as several writes, or a write and a rename) is one event.
// A save known to be whole is reported after DefaultQuiet instead.
const DefaultDebounce = 100 * time.Millisecond

// DefaultPaidDebounce is DefaultDebounce for a session whose plans render
// with the Imagine API: every save taken sends paid requests, which take
// seconds (5-20 s), and the vendor does not say that a cancelled one is
// free, so a burst of quick saves is one request, not one a save.
const DefaultPaidDebounce = time.Second

// DefaultQuiet is how long the Watcher waits after the last relevant
// notification before it looks whether the save has settled: the last
// event of every configuration file it touched is a close by its writer
// (or a rename into place), and the file lexes whole (see whole). Such a
// save is reported at once, as Early; any other waits out the rest of the
// debounce. The quiet time gathers the notifications of one save, and the
// saves of several files that an editor writes together. A settled save
// may still be only part of one (a file written in pieces, closed between
// them; one of several files saved together; a checkout of many): the
// caller applies an Early event only when that is harmless, and hands it
// back (Again) otherwise.
const DefaultQuiet = 10 * time.Millisecond

// tempPrefix marks pixform's temporary files (state.CreateTemp); events on
// them are never relevant.
const tempPrefix = ".pixform-tmp-"

// Event is one debounced batch of relevant changes.
type Event struct {
	// Config lists the configuration and variable files, and the source
	// and mask files of images (SetInputs), that were written, created,
	// removed or renamed, slash-separated and relative to the working
	// directory (absolute for a -var-file outside it), sorted.
	Config []string
	// Outputs lists output paths (or directories holding outputs) that were
	// removed or renamed away, relative to the working directory, sorted.
	Outputs []string
	// Err is set when notifications may have been lost (the kernel queue
	// overflowed, or the watcher failed): the caller should re-read
	// everything.
	Err error
	// Early says that the event was delivered after the quiet time, not
	// the full debounce, because its files had settled: the files may
	// still be the first part of a save. The caller either applies only
	// what the rest of the save can undo at no cost, or hands the event
	// back with Again.
	Early bool
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
	// Event is delivered; zero means DefaultDebounce. A save that has
	// settled is delivered after Quiet instead.
	Debounce time.Duration
	// Quiet is the quiet period after which a settled save is delivered;
	// zero means DefaultQuiet (or Debounce, if that is shorter).
	Quiet time.Duration
	// After returns a channel that receives once d has passed; nil means
	// time.After. Tests inject it to drive the debounce by hand.
	After func(d time.Duration) <-chan time.Time
}

// Watcher watches a working directory. It owns one goroutine, which reads
// fsnotify's notifications, filters and debounces them, and delivers
// Events; Close stops it and waits for it.
type Watcher struct {
	fw        *fsnotify.Watcher
	cw        *closeWatch   // nil where the system reports no closes
	slow      error         // why cw is nil on a system that reports closes
	cwReady   chan struct{} // cw has events queued
	cwDrained chan struct{} // the loop has read them
	again     chan Event    // events handed back (Again)
	fast      atomic.Bool   // settled saves are delivered early (SetFast)
	dir       string
	debounce  atomic.Int64 // nanoseconds (SetDebounce)
	quiet     time.Duration
	after     func(time.Duration) <-chan time.Time
	events    chan Event
	quit      chan struct{}
	done      chan struct{}
	closed    sync.Once

	mu      sync.Mutex
	m       matcher
	watched map[string]bool // directories added to fw beyond the fixed ones
	// inputDirs are the directories of the source and mask files added
	// to fw beyond the fixed ones (SetInputs); SetOutputs leaves them.
	inputDirs map[string]bool
	fixed     map[string]bool // the working directory and var-file directories
	// missing are the output directories that did not exist at the last
	// SetOutputs (an ancestor is watched instead), for Rewatch.
	missing map[string]bool
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
		fw:      fw,
		dir:     dir,
		quiet:   opts.Quiet,
		after:   opts.After,
		again:   make(chan Event),
		events:  make(chan Event),
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
		m:       matcher{dir: dir, varFiles: map[string]bool{}, outputs: map[string]bool{}},
		watched: map[string]bool{},
		fixed:   map[string]bool{dir: true},
	}
	w.SetDebounce(opts.Debounce)
	if w.quiet <= 0 {
		w.quiet = DefaultQuiet
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
	// Without close notifications (another system, or no inotify
	// instance to spare) every save waits the full debounce, as it always
	// did.
	if cw, err := newCloseWatch(slices.Collect(maps.Keys(w.fixed))); err != nil {
		w.slow = err
	} else if cw != nil {
		w.cw = cw
		w.cwReady, w.cwDrained = make(chan struct{}), make(chan struct{}, 1)
		cw.wait(w.cwReady, w.cwDrained)
	}
	go w.loop()
	return w, nil
}

// Events delivers one Event per debounced batch of changes. It is closed
// when the Watcher is closed.
func (w *Watcher) Events() <-chan Event { return w.events }

// SetFast says whether a save that has settled may be delivered after the
// quiet time, as an Early event, rather than after the full debounce. It
// is off until set: a session turns it on while its plans render drafts,
// which cost nothing and are made again alike, and off for the Imagine
// API, whose renders of a save's first part would be paid for.
func (w *Watcher) SetFast(on bool) { w.fast.Store(on) }

// SetDebounce sets the quiet period after the last notification before
// an Event is delivered, from the next notification on; zero means
// DefaultDebounce. A session sets it after each plan: a save the Imagine
// API renders is paid for, and waits longer than a draft's.
func (w *Watcher) SetDebounce(d time.Duration) {
	if d <= 0 {
		d = DefaultDebounce
	}
	w.debounce.Store(int64(d))
}

// full is the debounce; quietTime the quiet time, never longer.
func (w *Watcher) full() time.Duration      { return time.Duration(w.debounce.Load()) }
func (w *Watcher) quietTime() time.Duration { return min(w.quiet, w.full()) }

// Slow returns why every save waits the full debounce whatever SetFast
// says, on a system that could report closes (no inotify instance was
// free for them), or nil.
func (w *Watcher) Slow() error {
	switch {
	case w.slow == nil:
		return nil
	case errors.Is(w.slow, syscall.EMFILE):
		return fmt.Errorf("every save waits the full debounce (%v) before it is planned: no inotify instance was free to report when a file is closed (%w); raise fs.inotify.max_user_instances (sudo sysctl fs.inotify.max_user_instances=1024) for whole saves to be planned sooner", w.full(), w.slow)
	case errors.Is(w.slow, syscall.ENOSPC):
		return fmt.Errorf("every save waits the full debounce (%v) before it is planned: no inotify watch was free to report when a file is closed (%w); raise fs.inotify.max_user_watches (sudo sysctl fs.inotify.max_user_watches=524288) for whole saves to be planned sooner", w.full(), w.slow)
	}
	return fmt.Errorf("every save waits the full debounce (%v) before it is planned: %w", w.full(), w.slow)
}

// Again hands back an Early event whose plan the caller did not apply
// (it would have deleted or moved an image, or could not be made, which
// the rest of a save may undo): its files are delivered again, with any
// changed since, once the full debounce has passed since the last
// notification, without looking whether they settled.
func (w *Watcher) Again(ev Event) {
	select {
	case w.again <- ev:
	case <-w.done:
	}
}

// SetOutputs replaces the set of output paths (slash-separated, relative to
// the working directory) whose removal is reported, and watches their
// directories: each output's directory, or its nearest existing ancestor
// inside the working directory when that does not exist yet (Rewatch
// watches it once an apply has made it). Call it after every plan, since
// paths change and directories come and go. Each directory is looked at
// once, however many outputs it holds.
func (w *Watcher) SetOutputs(paths []string) error {
	outputs := make(map[string]bool, len(paths))
	dirs := map[string]bool{}
	for _, p := range paths {
		p = path.Clean(p)
		outputs[p] = true
		dirs[filepath.Dir(filepath.Join(w.dir, filepath.FromSlash(p)))] = true
	}
	want := map[string]bool{}
	missing := map[string]bool{}
	for d := range dirs {
		a, ok := w.existing(d)
		want[a] = true
		if !ok {
			missing[d] = true
		}
	}
	for d := range w.fixed {
		delete(want, d)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for d := range w.inputDirs {
		delete(want, d)
	}
	w.m.outputs = outputs
	w.missing = missing
	var errs []error
	for d := range want {
		if err := w.fw.Add(d); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("watch output directory %s: %w", d, err))
		}
	}
	for d := range w.watched {
		if !want[d] && !w.inputDirs[d] {
			w.fw.Remove(d) // it may be gone already; nothing to do then
		}
	}
	w.watched = want
	return errors.Join(errs...)
}

// SetInputs replaces the set of files (slash-separated, relative to the
// working directory) that images are made from (from = "FILE") or masked
// with, and watches their directories: a save of one is reported as a
// save of the configuration is. Call it after every plan that loaded
// the configuration, one that failed too (a file missing). A file whose
// directory does not exist has the nearest directory of its way that
// does watched instead, and the making of the next directory of the way,
// or of the file, is reported as a save: so a file created after a plan
// that missed it is planned. A directory is reached as safepath reaches
// any path pixform reads, with no symbolic link followed: a link on the
// way has its own directory watched (which sees it replaced), never its
// target. Each directory is watched again on every call (an add is
// idempotent, one system call a directory): one replaced since (git
// checkout, mv) is watched anew, not lost. It costs one lstat for each
// directory on the way to an input, once however many inputs it holds.
func (w *Watcher) SetInputs(paths []string) error {
	inputs := make(map[string]bool, len(paths))
	ways := map[string]bool{}
	dirs := map[string]bool{}
	reached := map[string]bool{} // the inputs' directories looked at
	stats := safepath.NewStats(w.dir)
	for _, p := range paths {
		p = path.Clean(p)
		if safepath.Check(p) != nil {
			continue // never a path outside the working directory
		}
		inputs[p] = true
		dir := path.Dir(p)
		if reached[dir] {
			continue
		}
		reached[dir] = true
		for d := dir; d != "." && !ways[d]; d = path.Dir(d) {
			ways[d] = true
		}
		if d := reach(stats, w.dir, dir); !w.fixed[d] {
			dirs[d] = true
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.m.inputs, w.m.inputWays = inputs, ways
	var errs []error
	for d := range dirs {
		// An output directory watched already is watched once; it stays
		// watched while it holds an input.
		if err := w.fw.Add(d); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("watch source directory %s: %w", d, err))
		}
		delete(w.watched, d)
	}
	for d := range w.inputDirs {
		if !dirs[d] {
			w.fw.Remove(d) // it may be gone already; nothing to do then
		}
	}
	w.inputDirs = dirs
	return errors.Join(errs...)
}

// reach returns the directory to watch for the files of dir
// (slash-separated, relative to root, "." for root): dir, absolute, when
// it is a directory on disk reached from root with no symbolic link on
// the way; else the deepest directory of its way that is (root at the
// least). A link is never followed, whether it leads in or out of root.
func reach(stats *safepath.Stats, root, dir string) string {
	at := "."
	for i := 0; dir != "." && i < len(dir); {
		next := dir
		if j := strings.IndexByte(dir[i:], '/'); j >= 0 {
			next = dir[:i+j]
		}
		fi, err := stats.Lstat(root, next)
		if err != nil || !fi.IsDir() { // missing, a file, or a link
			break
		}
		at, i = next, len(next)+1
	}
	return filepath.Join(root, filepath.FromSlash(at))
}

// Rewatch watches the output directories that did not exist when
// SetOutputs last ran and do now: those an apply made. Until then only
// an ancestor of each was watched, which reports nothing removed inside
// it. Call it after every apply; it looks at no output, and at no
// directory when every output's directory existed at the plan.
func (w *Watcher) Rewatch() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	var errs []error
	for d := range w.missing {
		a, ok := w.existing(d)
		if ok {
			delete(w.missing, d)
		}
		if w.fixed[a] || w.watched[a] || w.inputDirs[a] {
			continue
		}
		if err := w.fw.Add(a); err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, fmt.Errorf("watch output directory %s: %w", a, err))
			}
			continue
		}
		w.watched[a] = true
	}
	return errors.Join(errs...)
}

// existing returns d, an absolute directory inside the working directory,
// when it is one on disk; otherwise its nearest ancestor that is (the
// working directory at the least), and false.
func (w *Watcher) existing(d string) (string, bool) {
	first := true
	for d != w.dir && strings.HasPrefix(d, w.dir+string(filepath.Separator)) {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return d, first
		}
		first = false
		d = filepath.Dir(d)
	}
	return d, first
}

// Close stops watching, waits for the goroutine to end and closes Events.
func (w *Watcher) Close() error {
	var err error
	w.closed.Do(func() {
		close(w.quit)
		<-w.done
		if w.cw != nil {
			w.cw.Close()
		}
		err = w.fw.Close()
	})
	return err
}

// batch accumulates the relevant paths of one debounce period.
type batch struct {
	config, outputs map[string]bool
	err             error
	// early: part of it was taken once settled, before the full
	// debounce. full: it must wait the full debounce (handed back).
	early, full bool
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
	ev := Event{Err: b.err, Early: b.early}
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
// and restart the quiet timer; when it fires, pending joins ready if it has
// settled (or is dropped, if it only repeats a save already taken), else
// the timer is set for the rest of the debounce, after which pending joins
// ready whatever its state. Ready is offered on w.events until
// the caller takes it. Notifications that arrive while the caller is busy
// keep merging into ready, so nothing is lost and a busy caller gets one
// Event for everything that happened.
func (w *Watcher) loop() {
	defer close(w.done)
	defer close(w.events)
	var pending, ready batch
	var timer <-chan time.Time
	quiet := false     // timer is the quiet time, not the rest of the debounce
	var last time.Time // of the last relevant notification
	// taken is, for the files of the saves taken, the number of their last
	// event in cw's queue then: a notification of a file whose last event
	// is still that one came late, for a save already taken.
	taken := map[string]uint64{}
	take := func(seqs map[string]uint64, early bool) {
		ready.merge(&pending)
		ready.early = ready.early || early
		for p := range pending.config {
			if seq, ok := seqs[p]; ok {
				taken[p] = seq
			} else {
				delete(taken, p)
			}
		}
		pending = batch{}
		timer = nil
	}
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
			last = time.Now()
			timer, quiet = w.after(w.quietTime()), true
		case <-w.cwReady:
			shut := w.cw.drain(w.isConfig)
			w.cwDrained <- struct{}{}
			// A close read after the quiet time ended takes the save
			// as soon as it has settled.
			if shut && !quiet && timer != nil && !pending.full {
				if seqs, ok := w.settled(&pending); ok {
					take(seqs, true)
				}
			}
		case ev := <-w.again:
			for _, p := range ev.Config {
				pending.add(configFile, p)
			}
			for _, p := range ev.Outputs {
				pending.add(outputGone, p)
			}
			if pending.err == nil {
				pending.err = ev.Err
			}
			pending.full = true
			// A timer running already ends the full debounce after the
			// last notification (the quiet time, then the rest).
			if timer == nil {
				timer, quiet = w.after(max(0, w.full()-time.Since(last))), false
			}
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
			timer, quiet = w.after(w.full()), false
		case <-timer:
			if !quiet {
				take(w.lastEvents(&pending), false)
				continue
			}
			if !pending.full {
				if w.unchanged(&pending, taken) {
					// Late notifications of a save already taken (fsnotify
					// read them after its close): nothing to plan again.
					pending, timer = batch{}, nil
					continue
				}
				if seqs, ok := w.settled(&pending); ok {
					take(seqs, true)
					continue
				}
			}
			timer, quiet = w.after(w.full()-w.quietTime()), false
		case send <- ready.event():
			ready = batch{}
		}
	}
}

// classifyWrite classifies a write of the file at path.
func (w *Watcher) classifyWrite(path string) (kind, string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.m.classify(fsnotify.Event{Name: path, Op: fsnotify.Write})
}

// isConfig reports whether path is a configuration or variable file.
func (w *Watcher) isConfig(path string) bool {
	k, _ := w.classifyWrite(path)
	return k == configFile
}

// settled reports whether b is a save that may be delivered before the
// full debounce: SetFast allows it, and b is changes of configuration
// files alone, each of which has for its last event in cw's queue a close
// by its writer or a rename into place, and is a regular file, not empty,
// that lexes whole and had no event while it was read. A file that is
// missing (renamed away in the middle of an editor's save, or deleted),
// still open for writing, or cut short, is not. It returns the number of
// each file's last event.
func (w *Watcher) settled(b *batch) (map[string]uint64, bool) {
	if w.cw == nil || !w.fast.Load() || !configOnly(b) {
		return nil, false
	}
	w.cw.drain(w.isConfig)
	seqs := make(map[string]uint64, len(b.config))
	for rel := range b.config {
		p := w.abs(rel)
		ev, ok := w.cw.state(p)
		if !ok || !ev.shut || !wholeFile(p) {
			return nil, false
		}
		seqs[rel] = ev.seq
	}
	w.cw.drain(w.isConfig)
	for rel, seq := range seqs {
		if ev, ok := w.cw.state(w.abs(rel)); !ok || ev.seq != seq {
			return nil, false // written again while it was read
		}
	}
	return seqs, true
}

// lastEvents returns the number of the last event in cw's queue of each
// configuration file of b, where one is known.
func (w *Watcher) lastEvents(b *batch) map[string]uint64 {
	if w.cw == nil || len(b.config) == 0 {
		return nil
	}
	w.cw.drain(w.isConfig)
	seqs := make(map[string]uint64, len(b.config))
	for rel := range b.config {
		if ev, ok := w.cw.state(w.abs(rel)); ok {
			seqs[rel] = ev.seq
		}
	}
	return seqs
}

// unchanged reports whether b names only configuration files that had no
// event in cw's queue since a save of them was taken (taken): its
// notifications came late, and there is nothing new to plan. Any write,
// truncation, close, rename or deletion since is an event there, whatever
// the file's size and times say.
func (w *Watcher) unchanged(b *batch, taken map[string]uint64) bool {
	if w.cw == nil || !configOnly(b) {
		return false
	}
	w.cw.drain(w.isConfig)
	for rel := range b.config {
		seq, ok := taken[rel]
		if !ok {
			return false
		}
		if ev, ok := w.cw.state(w.abs(rel)); !ok || ev.seq != seq {
			return false
		}
	}
	return true
}

// configOnly reports whether b is changes of configuration files alone.
func configOnly(b *batch) bool {
	return b.err == nil && len(b.outputs) == 0 && len(b.config) > 0
}

// abs is the path of a file of an Event: rel is relative to the working
// directory, or absolute for a var file outside it.
func (w *Watcher) abs(rel string) string {
	p := filepath.FromSlash(rel)
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(w.dir, p)
}

// wholeFile reports whether the file at p is a regular file, not empty,
// that lexes whole (see whole). A large file is not read here: it waits
// the full debounce.
func wholeFile(p string) bool {
	if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
		return false // a FIFO or device at the name is not opened
	}
	// Opened without blocking, and looked at through the descriptor: a
	// FIFO or device put at the name since is not read, or waited on.
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() == 0 || fi.Size() > maxSettleRead {
		return false
	}
	src := make([]byte, fi.Size()+1) // one more, to see it grow
	if n, _ := io.ReadFull(f, src); int64(n) != fi.Size() {
		return false
	}
	return whole(src[:fi.Size()])
}

// maxSettleRead bounds the files whose saves may settle early: a larger
// one is read once, by the plan, after the full debounce.
const maxSettleRead = 1 << 20

// Held is a writer that can hold what is written to it: a watch session's
// Plan prints its diagnostics through it, and those of a plan of an Early
// event that the session does not apply are never printed (the plan made
// again after the debounce prints its own).
type Held struct {
	mu   sync.Mutex
	w    io.Writer
	held *bytes.Buffer // not nil while holding
}

// NewHeld returns a Held that writes to w.
func NewHeld(w io.Writer) *Held { return &Held{w: w} }

func (h *Held) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.held != nil {
		return h.held.Write(p)
	}
	return h.w.Write(p)
}

// hold holds what is written from now on.
func (h *Held) hold() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.held = &bytes.Buffer{}
}

// release stops holding, and writes what it held if print is set.
func (h *Held) release(print bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	b := h.held
	h.held = nil
	if print && b != nil && b.Len() > 0 {
		h.w.Write(b.Bytes())
	}
}
