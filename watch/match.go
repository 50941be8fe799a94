package watch

import (
	"path/filepath"
	"strings"

	"github.com/fsnotify/fsnotify"
)

// kind is what a notification means to pixform.
type kind int

const (
	irrelevant kind = iota
	configFile      // a configuration or variable file changed
	outputGone      // an output (or a directory of outputs) went away
)

// matcher classifies notifications. It is plain data so that the filter
// rules can be tested without a file system.
type matcher struct {
	dir      string          // absolute working directory
	varFiles map[string]bool // absolute, clean -var-file paths
	outputs  map[string]bool // slash-separated output paths relative to dir
	inputs   map[string]bool // slash-separated source and mask files relative to dir
	// inputWays are the directories on the way to each input (its own
	// and their ancestors, slash-separated, relative to dir; not dir).
	inputWays map[string]bool
}

// IsConfigName reports whether a file name (base name) is one that pixform
// reads as configuration: *.pix.hcl or *.pixvars.hcl.
func IsConfigName(name string) bool {
	if strings.HasPrefix(name, ".") {
		return false // editor swap and backup files such as .main.pix.hcl.swp
	}
	return strings.HasSuffix(name, ".pix.hcl") || strings.HasSuffix(name, ".pixvars.hcl")
}

// classify says what ev means, and returns its path relative to the
// working directory (slash-separated), or absolute for a var file outside it.
func (m *matcher) classify(ev fsnotify.Event) (kind, string) {
	name := filepath.Clean(ev.Name)
	base := filepath.Base(name)
	if strings.HasPrefix(base, tempPrefix) {
		return irrelevant, ""
	}
	changed := ev.Op.Has(fsnotify.Write) || ev.Op.Has(fsnotify.Create) || ev.Op.Has(fsnotify.Remove) || ev.Op.Has(fsnotify.Rename)
	if !changed {
		return irrelevant, "" // chmod alone changes nothing pixform reads
	}
	rel, inside := m.rel(name)
	if m.varFiles[name] {
		if inside {
			return configFile, rel
		}
		return configFile, filepath.ToSlash(name)
	}
	if !inside {
		return irrelevant, ""
	}
	if filepath.Dir(name) == m.dir && IsConfigName(base) {
		return configFile, rel
	}
	// A source or mask file is an input as the configuration is: any
	// save of it (in place, by rename), creation, removal, or a
	// directory on its way made, renamed or removed, is planned again.
	if m.inputs[rel] {
		return configFile, rel
	}
	if m.inputWays[rel] && (ev.Op.Has(fsnotify.Create) || ev.Op.Has(fsnotify.Remove) || ev.Op.Has(fsnotify.Rename)) {
		return configFile, rel
	}
	// Only a removal or rename away counts for outputs: pixform's own
	// writes land by rename into place, which shows as Create.
	if !ev.Op.Has(fsnotify.Remove) && !ev.Op.Has(fsnotify.Rename) {
		return irrelevant, ""
	}
	if m.outputs[rel] {
		return outputGone, rel
	}
	prefix := rel + "/"
	for o := range m.outputs {
		if strings.HasPrefix(o, prefix) {
			return outputGone, rel // a directory of outputs went away
		}
	}
	return irrelevant, ""
}

// rel returns name relative to the working directory, slash-separated, and
// whether it is inside it.
func (m *matcher) rel(name string) (string, bool) {
	r, err := filepath.Rel(m.dir, name)
	if err != nil || r == "." || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(r), true
}
