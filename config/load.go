package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/pixform/pixform/internal/safepath"
)

// File name suffixes and the environment prefix Load recognises.
const (
	// ConfigSuffix ends the name of every configuration file.
	ConfigSuffix = ".pix.hcl"
	// VarsSuffix ends the name of variable files loaded automatically.
	VarsSuffix = ".pixvars.hcl"
	// EnvVarPrefix starts the name of environment variables that set
	// variables: PIXFORM_VAR_theme=neon sets var.theme.
	EnvVarPrefix = "PIXFORM_VAR_"
)

// Load reads every *.pix.hcl file of dir in name order, assigns variables
// (environment < *.pixvars.hcl < -var-file < -var, later wins), evaluates
// locals, the provider block and every image instance, and validates the
// result. It reports all problems at once as diagnostics ranged on the
// offending source, with file names relative to dir.
//
// Load always returns a non-nil Config whose Files holds every file it
// parsed, so that callers can render the diagnostics with their source. When
// the diagnostics contain errors, Images holds only the instances that
// evaluated cleanly and Digest is empty: such a Config must not be planned.
func Load(dir string, opts LoadOptions) (*Config, hcl.Diagnostics) {
	l := &loader{
		dir:    dir,
		files:  map[string]*hcl.File{},
		funcs:  Functions(),
		vars:   map[string]*variable{},
		locals: map[string]*local{},
		disk:   safepath.NewDisk(dir),
		stats:  opts.Stats,

		generalOnly: opts.generalOnly,

		imageSchema: imageSchema(),
		checkMask:   checkSourceFile("mask"),
	}
	if l.stats == nil {
		// The image paths are still looked at in batches, in parallel,
		// through a Stats of this load's own (one lstat each, as without).
		l.stats = safepath.NewStats(dir)
	}
	cfg := &Config{Dir: dir, Files: l.files, Provider: defaultProvider()}
	defer l.compactFiles()
	defer func() { l.root.close() }()

	confNames, varNames := l.listDir()
	var srcs []source
	for _, name := range confNames {
		if src, ok := l.readFile(name, false, false); ok {
			srcs = append(srcs, source{name: name, src: src})
		}
	}
	bodies, diags := parseSources(srcs, opts.lazyFrom, !opts.generalOnly)
	l.diags = append(l.diags, diags...)
	for i, f := range bodies {
		l.files[srcs[i].name] = f
	}
	if len(confNames) == 0 && !l.diags.HasErrors() {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "No configuration files",
			Detail:   "There is no *" + ConfigSuffix + " file in " + dir + ". Run pixform in the directory that holds your configuration, or pass -chdir=DIR.",
		})
	}
	parseFailed := l.diags.HasErrors()
	// The files' top levels are read at once, then declared in order.
	contents := make([]fileContent, len(bodies))
	parallel(len(bodies), func(i int) { contents[i] = rootContent(bodies[i]) })
	// The image names are looked up in one map, made at its size.
	blocks := 0
	for _, c := range contents {
		if c.content != nil {
			blocks += len(c.content.Blocks)
		}
	}
	l.imageNames = make(map[string]*imageBlock, blocks)
	for _, c := range contents {
		l.declareContent(c)
	}
	if parseFailed {
		// A file that does not parse yields a partial body; evaluating the
		// rest against it would only add confusing follow-on errors.
		return cfg, sortDiags(l.diags)
	}

	// The declarations are sorted out: the files' syntax is needed only
	// for diagnostics from here on, and the image blocks are released
	// one batch at a time as expandImages evaluates them.
	l.compactFiles()
	l.imageNames = nil

	l.assignVariables(varNames, opts)
	l.evalLocals()
	l.evalProvider()
	cfg.Provider = l.provider
	l.evalStore()
	cfg.Store = l.store
	l.notePlainRefs()
	images := l.expandImages()
	sortImages(images)
	l.resolveDerived(images)
	cfg.Images = images
	if !l.diags.HasErrors() && !opts.NoDigest {
		cfg.Digest = digest(cfg.Provider, images)
	}
	return cfg, sortDiags(l.diags)
}

// sortDiags orders diagnostics by file, line and column, so that a cause
// comes before what follows from it; those without a range come first, in
// the order they were found.
func sortDiags(diags hcl.Diagnostics) hcl.Diagnostics {
	slices.SortStableFunc(diags, func(a, b *hcl.Diagnostic) int {
		switch {
		case a.Subject == nil && b.Subject == nil:
			return 0
		case a.Subject == nil:
			return -1
		case b.Subject == nil:
			return 1
		}
		if c := strings.Compare(a.Subject.Filename, b.Subject.Filename); c != 0 {
			return c
		}
		if c := a.Subject.Start.Line - b.Subject.Start.Line; c != 0 {
			return c
		}
		return a.Subject.Start.Column - b.Subject.Start.Column
	})
	return diags
}

// loader holds the state of one Load call.
type loader struct {
	dir   string
	files map[string]*hcl.File
	diags hcl.Diagnostics
	funcs map[string]function.Function

	vars     map[string]*variable
	varOrder []string
	varObj   cty.Value

	locals     map[string]*local
	localOrder []string
	localObj   cty.Value

	providerBlock *hcl.Block
	provider      Provider

	storeBlock *hcl.Block
	store      *Store

	images     []*imageBlock
	imageNames map[string]*imageBlock

	// base is the evaluation context of everything outside an instance:
	// var, local and the function table. Instances use children of it.
	base *hcl.EvalContext
	// plainVars and plainLocals, when not nil, hold the text of each
	// declared variable and local that base holds as a plain string
	// (notePlainRefs): read only.
	plainVars, plainLocals map[string]string
	// generalOnly turns constAttr off (LoadOptions.generalOnly).
	generalOnly bool

	// disk checks image paths against the file system; only expandImages,
	// on its own goroutine, uses it.
	disk *safepath.Disk
	// stats, when not nil, makes each image path's own lstat; workers
	// may use it.
	stats *safepath.Stats
	// imageSchema is imageSchema(), made once for every block; read only.
	imageSchema *hcl.BodySchema
	// root is the working directory held open, once a file is read.
	root *sourceRoot
	// checkMask is checkSourceFile("mask"), made once for every block.
	checkMask func(l *loader, v cty.Value, rng hcl.Range, inst string) (string, bool)
}

// listDir returns the configuration and auto-loaded variable file names of
// l.dir, each sorted.
func (l *loader) listDir() (conf, vars []string) {
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Cannot read configuration directory",
			Detail:   "Reading " + l.dir + " failed: " + err.Error() + ". Check that the directory exists and is readable.",
		})
		return nil, nil
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || ignoredFile(name) {
			continue
		}
		switch {
		case strings.HasSuffix(name, ConfigSuffix):
			conf = append(conf, name)
		case strings.HasSuffix(name, VarsSuffix):
			vars = append(vars, name)
		}
	}
	// os.ReadDir sorts by name already; keep the contract explicit.
	slices.Sort(conf)
	slices.Sort(vars)
	return conf, vars
}

// ignoredFile reports editor droppings: hidden files, backups and lock files.
func ignoredFile(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasSuffix(name, "~") ||
		(strings.HasPrefix(name, "#") && strings.HasSuffix(name, "#"))
}

// MaxFileBytes is the largest configuration or variable file pixform
// reads: some 350,000 image blocks, far more than any configuration puts
// in one file, and far less than would exhaust a CI runner's memory.
const MaxFileBytes = 64 << 20

// FileError is a configuration or variable file that cannot be read:
// missing, unreadable, not a regular file, or larger than MaxFileBytes.
type FileError struct {
	Path    string
	Summary string
	Detail  string
	Err     error
}

func (e *FileError) Error() string { return e.Detail }

func (e *FileError) Unwrap() error { return e.Err }

// ReadSource reads the configuration or variable file at path: a regular
// file (or a link to one) of at most MaxFileBytes, read no further than
// that, so that a huge file, or a link to a device, is refused rather than
// read into memory. The error is a *FileError. It checks no link: Load and
// OpenSource read a file named inside the working directory.
func ReadSource(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, cannotRead(path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, notRegular(path, fi.Mode())
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, cannotRead(path, err)
	}
	defer f.Close()
	return readOpened(path, f)
}

// cannotRead is the *FileError of a file that cannot be opened or read.
func cannotRead(path string, err error) *FileError {
	return &FileError{Path: path, Summary: "Cannot read file", Err: err,
		Detail: "Reading " + path + " failed: " + err.Error() + ". Check that it exists and is readable."}
}

func notRegular(path string, m os.FileMode) error {
	return &FileError{Path: path, Summary: "Cannot read file",
		Detail: fmt.Sprintf("%s is not a regular file (%s). A configuration or variable file must be one: replace it with the file itself.", path, FileKind(m))}
}

// readOpened reads the file open as f, whose errors name path: a regular
// file (by f's own stat: the file read) of at most MaxFileBytes, read no
// further than that.
func readOpened(path string, f *os.File) ([]byte, error) {
	tooLarge := func(size int64) error {
		return &FileError{Path: path, Summary: "Configuration file too large",
			Detail: fmt.Sprintf("%s is %s, and pixform reads at most %d MiB of one configuration or variable file, far more than any configuration needs. Check that it is the file you meant; split a configuration that large into several *%s files.",
				path, mib(size), MaxFileBytes>>20, ConfigSuffix)}
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, cannotRead(path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, notRegular(path, fi.Mode())
	}
	if fi.Size() > MaxFileBytes {
		return nil, tooLarge(fi.Size())
	}
	// Read into a buffer of the file's size, as os.ReadFile does (no
	// copies as it grows), and never beyond the cap.
	var buf bytes.Buffer
	buf.Grow(int(fi.Size()) + bytes.MinRead)
	if _, err := buf.ReadFrom(io.LimitReader(f, MaxFileBytes+1)); err != nil {
		return nil, cannotRead(path, err)
	}
	if buf.Len() > MaxFileBytes { // it grew since the stat
		return nil, tooLarge(int64(buf.Len()))
	}
	return buf.Bytes(), nil
}

// mib writes a size of more than a MiB in MiB, with one decimal.
func mib(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// FileKind names what a file that is not a regular file is, for an
// error that refuses it.
func FileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&(os.ModeDevice|os.ModeCharDevice) != 0:
		return "a device"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "not a regular file"
}

// readFile reads the configuration (or, vars, variable) file name,
// relative to l.dir or absolute, reporting a failure. It is opened
// relative to the working directory held open, one component at a time
// (sourceRoot.open), every symbolic link on its way followed by pixform,
// not the kernel, and one that leads out of the working directory refuses
// it: a pull request could link a *.pix.hcl file to /proc/self/environ (a
// regular file, to a stat), or a directory a -var-file names to
// /proc/self, whose parse errors would print the environment, the API
// token with it. What is read is the file checked, through the
// descriptor the walk opened. A link that stays inside is read, as fmt
// formats it; a path the command line names outside the directory (a
// -var-file there) is the user's own choice, unless its way enters the
// working directory (then the inside rules hold); strict (variable files
// a saved plan names) reads nothing outside.
func (l *loader) readFile(name string, vars, strict bool) ([]byte, bool) {
	if l.root == nil {
		r, err := openRoot(l.dir)
		if err != nil {
			l.diags = append(l.diags, fileDiag(cannotRead(l.dir, err)))
			return nil, false
		}
		l.root = r
	}
	_, src, err := l.root.read(name, strict, false)
	var lo *LinkOutside
	var ni *NotInside
	var fe *FileError
	switch {
	case err == nil:
		return src, true
	case errors.As(err, &lo):
		l.diags = append(l.diags, outsideDiag(lo, vars))
	case errors.As(err, &ni):
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Variable file outside the working directory",
			Detail:   fmt.Sprintf("The saved plan names the variable file %s, outside the working directory: pixform reads a variable file that a plan file names only inside it, since a plan file can come from anyone (a CI artifact). Make a new plan with the file inside the working directory (pixform plan -out=FILE), or apply without a plan file.", ni.Path),
		})
	case errors.As(err, &fe):
		l.diags = append(l.diags, fileDiag(fe))
	default:
		l.diags = append(l.diags, fileDiag(cannotRead(name, err)))
	}
	return nil, false
}

func fileDiag(fe *FileError) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: fe.Summary, Detail: fe.Detail}
}

// outsideDiag refuses a configuration or variable file that a link leads
// out of the working directory, saying which link, where to, and what to
// do.
func outsideDiag(lo *LinkOutside, vars bool) *hcl.Diagnostic {
	summary, todo := "Configuration file links outside the working directory", "Replace the link with the file itself."
	if vars {
		summary = "Variable file links outside the working directory"
		// Under /proc, /dev or /sys, or with no name: nothing to suggest.
		if file := lo.Suggested(); file != "" {
			todo = "Replace the link with the file itself, or, if it is yours, name the file it leads to: -var-file=" + file + "."
		}
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail: fmt.Sprintf("%s, outside the working directory: pixform reads no configuration or variable file from outside it through a link in it, since a link in the repository can come from anyone who opens a pull request. %s",
			lo.What(), todo),
	}
}

// parseFile reads and parses one small HCL file (a variable file, named
// relative to l.dir or absolute), records it in l.files under name, and
// returns it (nil when it could not be read).
func (l *loader) parseFile(name string, strict bool) *hcl.File {
	src, ok := l.readFile(name, true, strict)
	if !ok {
		return nil
	}
	f, diags := parseConfig(src, name, hcl.InitialPos)
	l.diags = append(l.diags, diags...)
	if f != nil {
		l.files[name] = f
	}
	return f
}

// rootSchema is the top level of a configuration file.
func rootSchema() *hcl.BodySchema {
	return &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: "provider", LabelNames: []string{"name"}},
		{Type: "image", LabelNames: []string{"name"}},
		{Type: "store"},
	}}
}

// fileContent is the top level of a file, as rootContent reads it.
type fileContent struct {
	content *hcl.BodyContent // nil for a file without a body
	diags   hcl.Diagnostics
}

// rootContent reads the top-level blocks of f. It only reads f: the files
// of a configuration may be read at once.
func rootContent(f *hcl.File) fileContent {
	if f.Body == nil {
		return fileContent{}
	}
	content, diags := f.Body.Content(rootSchema())
	return fileContent{content: content, diags: diags}
}

// declareContent sorts the top-level blocks that rootContent read into l's
// declarations, and reports what it found wrong.
func (l *loader) declareContent(c fileContent) {
	l.diags = append(l.diags, c.diags...)
	if c.content == nil {
		return
	}
	for _, b := range c.content.Blocks {
		switch b.Type {
		case "variable":
			l.declareVariable(b)
		case "locals":
			l.declareLocals(b)
		case "provider":
			l.declareProvider(b)
		case "image":
			l.declareImage(b)
		case "store":
			l.declareStore(b)
		}
	}
}

// errorf appends an error diagnostic.
func (l *loader) errorf(subject *hcl.Range, summary, detail string) {
	l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: subject})
}

// addDiags appends diags, giving any diagnostic without a Subject the range
// rng, so that every diagnostic about the source points into it.
func (l *loader) addDiags(diags hcl.Diagnostics, rng hcl.Range) {
	for _, d := range diags {
		if d.Subject == nil {
			r := rng
			d.Subject = &r
		}
		l.diags = append(l.diags, d)
	}
}
